include $(sort $(wildcard $(BR2_EXTERNAL_HVRT_PATH)/package/*/*.mk))
