<#
.SYNOPSIS
Create (and optionally start) the VMs of one of the paper's seven scenarios from an hvrt VHD.

.DESCRIPTION
For the scenario's test VM and each load VM: copies the VHD, sets the VM's role in the copy's
bench.conf, and creates a Generation 1 VM with 1 vCPU (reserve 100 %, limit 100 %), static
memory, COM1 on the named pipe \\.\pipe\<vm name>, no checkpoints, and one network adapter:
legacy (emulated DEC 21140) for the emulated image, synthetic for the enlightened one.
With -ConvertVhd, the VMs' disks are VHDX made by Hyper-V's own Convert-VHD from the fixed
VHD given as -Vhd, instead of copies of the image as built (whose VHDX rust-bench writes).
With -Start, starts the load VMs first, waits -SettleSeconds, then starts the test VM.
Then run Get-HvrtResults.ps1 with the same -Scenario and -Variant to collect the results.

See docs/hyper-v.md for each scenario's layout and the host settings scenarios 2-4 need.

.EXAMPLE
.\New-HvrtScenario.ps1 -Scenario 1 -Vhd C:\hvrt\hvrt-enlightened.vhd -Variant enlightened -Start
.\Get-HvrtResults.ps1 -Scenario 1 -Variant enlightened -Destination C:\hvrt\results
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)][ValidateRange(1, 7)][int]$Scenario,
    [Parameter(Mandatory)][string]$Vhd,
    [Parameter(Mandatory)][ValidateSet('enlightened', 'emulated')][string]$Variant,
    # Where the VMs' disk copies go (one per VM).
    [string]$VmRoot = (Join-Path (Split-Path -Parent (Resolve-Path $Vhd)) 'vms'),
    [string]$Prefix = 'hvrt',
    # A virtual switch for the network adapters; none: adapters stay unconnected.
    [string]$SwitchName = '',
    [long]$MemoryBytes = 512MB,
    # CPU reserve (%) of the load VMs. On a one-processor host (scenarios 3 and 4) the test VM
    # already reserves the whole processor, so the loads can only compete for what it leaves.
    [ValidateRange(0, 100)][int]$LoadReserve = 0,
    # Overrides for the test VM's bench.conf, e.g. @{ 'clock_tick.duration' = '10m' }.
    [hashtable]$TestConfig = @{},
    [switch]$Start,
    [int]$SettleSeconds = 60,
    # Create the VMs of scenarios 2-4 even though the host has more than one processor.
    [switch]$Force,
    # Give the VMs VHDX disks converted by Hyper-V's Convert-VHD from the fixed VHD (-Vhd),
    # for those who prefer Windows' own VHDX writer to the VHDX of the build.
    [switch]$ConvertVhd
)

. (Join-Path $PSScriptRoot 'HvrtCommon.ps1')

$plan = $HvrtScenarios[$Scenario]
$vhdPath = (Resolve-Path $Vhd).Path
$ext = [IO.Path]::GetExtension($vhdPath)
if ($ConvertVhd -and $ext -ne '.vhd') {
    throw ("-ConvertVhd converts the fixed VHD, and $vhdPath is not one: give " +
        "-Vhd hvrt-$Variant.vhd, or leave out -ConvertVhd to use the VHDX as built.")
}
$lps = (Get-VMHost).LogicalProcessorCount
if ($plan.HostCpus -eq 'one' -and $lps -gt 1 -and -not $Force) {
    throw ("Scenario $Scenario ($($plan.Name)) needs the host limited to one logical processor, " +
        "and this host has $lps. Disable the other cores (and Hyper-Threading) in the firmware " +
        "setup, or see docs/hyper-v.md for the boot setting; then run this again. -Force creates " +
        "the VMs anyway (the results will then not be those of the scenario).")
}
if (($Scenario -in 5, 6) -and ($lps -ne $plan.Loads.Count + 1)) {
    Write-Warning ("All-to-all: the paper's host had 4 processors for 4 VMs; this host has $lps " +
        "for $($plan.Loads.Count + 1) VMs.")
}

New-Item -ItemType Directory -Force -Path $VmRoot | Out-Null
if ($ConvertVhd) {
    $converted = Join-Path $VmRoot ([IO.Path]::GetFileNameWithoutExtension($vhdPath) + '-converted.vhdx')
    if ($PSCmdlet.ShouldProcess($converted, "Convert-VHD from $vhdPath")) {
        # Converted afresh each time: the VHD may have been rebuilt since.
        Remove-Item -Path $converted -Force -ErrorAction SilentlyContinue
        Convert-VHD -Path $vhdPath -DestinationPath $converted -VHDType Dynamic
        Write-Host "converted $vhdPath to $converted (Hyper-V's Convert-VHD)"
    }
    $vhdPath = $converted
    $ext = '.vhdx'
}
$vms = @(@{ Role = 'test'; Name = (Get-HvrtVmName $Prefix $Scenario $Variant 'test') })
$n = 0
foreach ($role in $plan.Loads) {
    $n++
    $vms += @{ Role = $role; Name = (Get-HvrtVmName $Prefix $Scenario $Variant "load$n") }
}

foreach ($vm in $vms) {
    $name = $vm.Name
    if (Get-VM -Name $name -ErrorAction SilentlyContinue) {
        throw "A VM named $name exists already; remove it first (Remove-HvrtScenario.ps1)."
    }
    $disk = Join-Path $VmRoot "$name$ext"
    if (-not $PSCmdlet.ShouldProcess($name, "create $($vm.Role) VM with disk $disk")) { continue }

    Copy-Item -Path $vhdPath -Destination $disk -Force
    $config = @{ role = $vm.Role }
    if ($vm.Role -eq 'test') {
        foreach ($k in $TestConfig.Keys) { $config[$k] = $TestConfig[$k] }
    } else {
        # A load runs until the machine's timeout: long enough to outlast the test VM.
        $config['timeout'] = '6h'
    }
    $root = Mount-HvrtVolume -Path $disk
    try {
        Set-HvrtConfig -Root $root -Values $config
    } finally {
        Dismount-VHD -Path $disk
    }

    # Generation 1 attaches -VHDPath to IDE 0:0, the disk both kernels boot from.
    New-VM -Name $name -Generation 1 -MemoryStartupBytes $MemoryBytes -VHDPath $disk | Out-Null
    Set-VMMemory -VMName $name -DynamicMemoryEnabled $false
    $reserve = if ($vm.Role -eq 'test') { 100 } else { $LoadReserve }
    Set-VMProcessor -VMName $name -Count 1 -Reserve $reserve -Maximum 100
    Set-VMComPort -VMName $name -Number 1 -Path "\\.\pipe\$name"
    Set-VM -Name $name -CheckpointType Disabled -AutomaticStartAction Nothing -AutomaticStopAction TurnOff
    Get-VMNetworkAdapter -VMName $name | Remove-VMNetworkAdapter
    $legacy = $Variant -eq 'emulated'
    if ($SwitchName) {
        Add-VMNetworkAdapter -VMName $name -IsLegacy $legacy -SwitchName $SwitchName
    } else {
        Add-VMNetworkAdapter -VMName $name -IsLegacy $legacy
    }
    Write-Host "created $name ($($vm.Role)): Gen 1, 1 vCPU reserve $reserve % limit 100 %, COM1 \\.\pipe\$name, disk $disk"
}

if ($Start) {
    $loads = $vms | Where-Object { $_.Role -ne 'test' }
    foreach ($vm in $loads) { Start-VM -Name $vm.Name; Write-Host "started $($vm.Name)" }
    if ($loads) {
        Write-Host "letting the loads settle for $SettleSeconds s"
        Start-Sleep -Seconds $SettleSeconds
    }
    Start-VM -Name $vms[0].Name
    Write-Host "started $($vms[0].Name); it powers itself off when done (Get-HvrtResults.ps1 waits for that)"
}
