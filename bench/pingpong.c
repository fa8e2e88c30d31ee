/*
 * Thread switch latency, the plain C way: two SCHED_FIFO threads of one priority pinned
 * to one CPU take turns with sched_yield(). Before yielding a thread stores an
 * LFENCE;RDTSC stamp and its id in a shared slot; the thread that runs next stamps first
 * thing and, if the slot holds the other thread's id, records now - stamp.
 * Same method as `rust-bench thread-switch --threads 2`, used as its reference.
 *
 * usage: pingpong CPU PRIORITY SWITCHES
 * prints one JSON line: switches, min/p50/p99/max/mean in ns, TSC hz.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static volatile uint64_t slot_t;
static volatile int slot_id = -1;
static volatile int done;
static uint64_t *samples;
static volatile long nsamples;
static long target;
static int cpu, prio;
static pthread_barrier_t barrier;

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	cpu_set_t set;
	struct sched_param sp = { .sched_priority = prio };

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) ||
	    pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)) {
		fprintf(stderr, "pingpong: cannot pin or set SCHED_FIFO (run as root)\n");
		exit(1);
	}
	pthread_barrier_wait(&barrier);
	for (;;) {
		uint64_t t = rdtsc_ordered();
		int who;

		if (done)
			break;
		who = slot_id;
		if (who >= 0 && who != id)
			samples[nsamples++] = t - slot_t;
		slot_id = -1;
		if (nsamples >= target) {
			done = 1;
			break;
		}
		slot_t = rdtsc_ordered();
		slot_id = id;
		sched_yield();
	}
	return NULL;
}

static uint64_t mono_raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	pthread_t th[2];
	uint64_t t0, n0, t1, n1;
	double hz, ns_per_tick, sum = 0;
	struct timespec pause = { 0, 200000000 };
	long i;

	if (argc != 4) {
		fprintf(stderr, "usage: pingpong CPU PRIORITY SWITCHES\n");
		return 2;
	}
	cpu = atoi(argv[1]);
	prio = atoi(argv[2]);
	target = atol(argv[3]);
	if (target < 1)
		return 2;
	samples = calloc(target + 2, sizeof(*samples));
	if (!samples)
		return 1;
	memset(samples, 0, (target + 2) * sizeof(*samples));
	mlockall(MCL_CURRENT | MCL_FUTURE);

	t0 = rdtsc_ordered();
	n0 = mono_raw_ns();
	nanosleep(&pause, NULL);
	t1 = rdtsc_ordered();
	n1 = mono_raw_ns();
	hz = (double)(t1 - t0) * 1e9 / (double)(n1 - n0);
	ns_per_tick = 1e9 / hz;

	pthread_barrier_init(&barrier, NULL, 2);
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	qsort(samples, nsamples, sizeof(*samples), cmp);
	for (i = 0; i < nsamples; i++)
		sum += samples[i];
#define NS(x) ((double)(x) * ns_per_tick)
	printf("{\"switches\": %ld, \"min_ns\": %.0f, \"p50_ns\": %.0f, \"p99_ns\": %.0f, "
	       "\"max_ns\": %.0f, \"mean_ns\": %.1f, \"hz\": %.0f}\n",
	       nsamples, NS(samples[0]), NS(samples[(nsamples + 1) / 2 - 1]),
	       NS(samples[(long)(nsamples * 0.99 + 0.999999) - 1]), NS(samples[nsamples - 1]),
	       NS(sum / nsamples), hz);
	return 0;
}
