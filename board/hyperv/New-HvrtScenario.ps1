#Requires -RunAsAdministrator
#Requires -Modules Hyper-V, Storage
<#
.SYNOPSIS
Create (and optionally start) the VMs of one of the paper's seven scenarios from an hvrt VHD.

.DESCRIPTION
Checks first, before anything is made: that the variant runs as -Generation (the emulated image
is Generation 1 only) and the disk is one that generation takes (Generation 2: VHDX), that the
VHD is the -Variant image (its variant.txt), that no VM of the scenario exists, that a test VM
disk copy about to be replaced holds no results not yet collected, that the processors the
scenario needs are there (one for scenarios 2-4: a one-processor host or a CPU group of one
processor), that the processor reserves fit, and what the host's scheduler and
Hyper-Threading mean for the scenario.

Then, for the scenario's test VM and each load VM: copies the VHD, writes the VM's role (and
-BenchConf, -TestConfig, -LoadConfig) in the copy's bench.conf, and creates a VM of
-Generation (1, the paper's, by default: BIOS, the disk on IDE 0:0; 2: UEFI with Secure Boot
off, the disk on SCSI 0:0 as its first boot device) with 1 vCPU (no SMT), static memory, COM1
on the named pipe \\.\pipe\<vm name>, no checkpoints, and one network adapter: the one the
variant's variant.conf names (legacy, the emulated DEC 21140, for the emulated image;
synthetic for the enlightened one). All or nothing: when one VM cannot be made, the VMs and
disk copies made before it are removed again. Processor settings as the paper's: every VM gets a whole
processor (reserve 100 %, limit 100 %); where the VMs share one processor (scenarios 3, 4)
the test VM keeps reserve 100 % and the load VM gets reserve 0 % (see docs/hyper-v.md).
Writes <VmRoot>\<prefix>-s<scenario>-<variant>.json (-gen2.json for Generation 2): the host
(Windows, Hyper-V, processor, logical processors, Hyper-Threading, scheduler type), the
settings applied to each VM (firmware, disk controller, COM port) and the test plan's expected
length, which Get-HvrtResults.ps1 waits out before it asks Hyper-V whether the VM is off.
With -ConvertVhd, the VMs' disks are VHDX made by Hyper-V's own Convert-VHD from the fixed
VHD given as -Vhd, instead of copies of the image as built (whose VHDX rust-bench writes).
With -Start, starts the load VMs first, waits -SettleSeconds, then starts the test VM.
Then run Get-HvrtResults.ps1 with the same -Scenario, -Variant and -Generation to collect the
results (Invoke-HvrtScenario.ps1 does both, for one generation after the other).

See docs/hyper-v.md for each scenario's layout and the host settings scenarios 2-4 need.

.EXAMPLE
.\New-HvrtScenario.ps1 -Scenario 1 -Vhd C:\hvrt\hvrt-enlightened.vhd -Variant enlightened -Start
.\Get-HvrtResults.ps1 -Scenario 1 -Variant enlightened -Destination C:\hvrt\results

.EXAMPLE
# The enlightened image as Generation 2 (UEFI): from the VHDX
.\New-HvrtScenario.ps1 -Scenario 1 -Vhd C:\hvrt\hvrt-enlightened.vhdx -Variant enlightened -Generation 2 -Start

.EXAMPLE
# Scenario 3 on a multi-processor host, its VMs confined to logical processor 0 by a CPU group
CpuGroups.exe CreateGroup /GroupId:36ab08cb-3a76-4b38-992e-000000000100 /GroupAffinity:0
.\New-HvrtScenario.ps1 -Scenario 3 -Vhd C:\hvrt\hvrt-emulated.vhd -Variant emulated `
    -CpuGroupId 36ab08cb-3a76-4b38-992e-000000000100 -CpuGroupsExe C:\tools\CpuGroups.exe -Start
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)][ValidateRange(1, 7)][int]$Scenario,
    [Parameter(Mandatory)][string]$Vhd,
    # A directory of board\hyperv with a variant.conf: enlightened or emulated.
    [Parameter(Mandatory)][string]$Variant,
    # The Hyper-V generation of the VMs: 1 (BIOS, IDE; the paper's) or 2 (UEFI, SCSI, VHDX only).
    [ValidateSet(1, 2)][int]$Generation = 1,
    # Where the VMs' disk copies go (one per VM), and the scenario's record; default: a folder
    # vms beside the image.
    [string]$VmRoot = '',
    [string]$Prefix = 'hvrt',
    # A virtual switch for the network adapters; none: adapters stay unconnected.
    [string]$SwitchName = '',
    # 512 MiB (the grammar of the syntax check knows no 512MB literal).
    [long]$MemoryBytes = 512 * 1024 * 1024,
    # CPU reserve (%) of the test VM: 100, the paper's one processor per VM.
    [ValidateRange(0, 100)][int]$TestReserve = 100,
    # CPU reserve (%) of each load VM. Default: 100 (the paper's), but 0 where the VMs share
    # one processor (scenarios 3, 4), as two reserves of 100 % do not fit one processor.
    [ValidateRange(0, 100)][int]$LoadReserve,
    # A bench.conf to put on every VM's disk copy instead of the image's (role and the
    # overrides below are then set in it).
    [string]$BenchConf = '',
    # Overrides for the test VM's bench.conf, e.g. @{ 'clock_tick.duration' = '10m' }.
    [hashtable]$TestConfig = @{},
    # Overrides for the load VMs' bench.conf, e.g. @{ 'memory_load.size' = '64MiB' }.
    [hashtable]$LoadConfig = @{},
    # Bind every VM of the scenario to this CPU group (made beforehand with CpuGroups.exe
    # CreateGroup); for scenarios 2-4 a group of one logical processor stands for the
    # one-processor host.
    [string]$CpuGroupId = '',
    # Microsoft's CpuGroups.exe (the only tool that manages CPU groups, through the HCS).
    [string]$CpuGroupsExe = 'CpuGroups.exe',
    [switch]$Start,
    [int]$SettleSeconds = 60,
    # Create the VMs although the host differs from the paper's setup in a way that changes
    # the results (more than one processor for scenarios 2-4, the root scheduler).
    [switch]$Force,
    # Give the VMs VHDX disks converted by Hyper-V's Convert-VHD from the fixed VHD (-Vhd),
    # for those who prefer Windows' own VHDX writer to the VHDX of the build.
    [switch]$ConvertVhd
)

. (Join-Path $PSScriptRoot 'HvrtCommon.ps1')

# --- Checks: nothing is made until all of them pass. ---

$variantInfo = Get-HvrtVariant $Variant
Assert-HvrtGeneration $variantInfo $Generation
$plan = $HvrtScenarios[$Scenario]
# Every path as the shell sees it, before anything hands one to .NET.
$vhdPath = Resolve-HvrtPath $Vhd
if (-not (Test-Path -LiteralPath $vhdPath -PathType Leaf)) { throw "-Vhd ${Vhd}: no such file." }
if (-not $VmRoot) { $VmRoot = Join-Path (Split-Path -Parent $vhdPath) 'vms' }
$VmRoot = Resolve-HvrtPath $VmRoot
if ($BenchConf) {
    $BenchConf = Resolve-HvrtPath $BenchConf
    if (-not (Test-Path -LiteralPath $BenchConf -PathType Leaf)) { throw "-BenchConf ${BenchConf}: no such file." }
}
$ext = [IO.Path]::GetExtension($vhdPath).ToLower()
if ($ConvertVhd -and $ext -ne '.vhd') {
    throw ("-ConvertVhd converts the fixed VHD, and $vhdPath is not one: give " +
        "-Vhd hvrt-$Variant.vhd, or leave out -ConvertVhd to use the VHDX as built.")
}
# The disks the VMs get: copies of the image, or of the VHDX Convert-VHD makes of it.
$diskExt = if ($ConvertVhd) { '.vhdx' } else { $ext }
if ($Generation -eq 2 -and $diskExt -ne '.vhdx') {
    throw ("Generation 2 VMs take VHDX disks only, and $vhdPath is a VHD: give -Vhd " +
        "hvrt-$Variant.vhdx (made beside the VHD), or add -ConvertVhd to have Hyper-V convert it.")
}
$recordPath = Get-HvrtRecordPath $VmRoot $Prefix $Scenario $Variant $Generation
$shared = $plan.HostCpus -eq 'one'
if (-not $PSBoundParameters.ContainsKey('LoadReserve')) {
    $LoadReserve = if ($shared) { 0 } else { 100 }
}

Assert-HvrtImageVariant $vhdPath $Variant
$hostRecord = Get-HvrtHostRecord

# The processors the scenario's VMs can run on.
$cpuGroup = $null
$cpus = $hostRecord.LogicalProcessors
if ($CpuGroupId) {
    $lps = @(Get-HvrtCpuGroupLps $CpuGroupsExe $CpuGroupId)
    $cpuGroup = [ordered]@{ Id = $CpuGroupId; LpIndexes = $lps }
    $cpus = $lps.Count
}
if ($shared -and $cpus -gt 1 -and -not $Force) {
    throw ("Scenario $Scenario ($($plan.Name)) needs its VMs on one logical processor, and they " +
        "would have $cpus. Either disable the other cores (and Hyper-Threading) in the firmware " +
        "setup, or create a CPU group of one processor and pass -CpuGroupId (docs/hyper-v.md); " +
        "then run this again. -Force creates the VMs anyway (the results will then not be " +
        "those of the scenario).")
}
if (($Scenario -in 5, 6) -and ($cpus -ne $plan.Loads.Count + 1)) {
    Write-Warning ("All-to-all: the paper's host had 4 processors for 4 VMs; these VMs have $cpus " +
        "for $($plan.Loads.Count + 1) (docs/hyper-v.md, 'All-to-all on a host with more processors').")
}
$reserved = $TestReserve + $plan.Loads.Count * $LoadReserve
if ($reserved -gt 100 * $cpus) {
    throw ("The reserves add up to $reserved % of one processor (test $TestReserve %, " +
        "$($plan.Loads.Count) load VM(s) $LoadReserve % each) and the VMs have $cpus " +
        "processor(s): lower -TestReserve or -LoadReserve.")
}

$scheduler = $hostRecord.Scheduler
if ($scheduler.Code -eq 4 -and -not $Force) {
    throw ("This host runs the root scheduler, which ignores the per-VM reserve and limit the " +
        "paper's setup rests on (Microsoft: these controls apply only with the classic and core " +
        "schedulers). On Windows Server: bcdedit /set hypervisorschedulertype Classic, then " +
        "reboot. Windows 10/11 support only the root scheduler: use Windows Server or Hyper-V " +
        "Server for the paper's settings. -Force creates the VMs anyway.")
}
if ($null -eq $scheduler.Code) {
    Write-Warning "The hypervisor scheduler type is not known ($($scheduler.InEffect)); it is recorded as such."
} elseif ($scheduler.Code -notin 1, 2 -and -not ($scheduler.Code -eq 3 -and -not $hostRecord.HyperThreading)) {
    Write-Warning ("The hypervisor runs the $($scheduler.InEffect) scheduler; the paper's host ran " +
        "the classic one (bcdedit /set hypervisorschedulertype Classic, then reboot).")
}
if ($hostRecord.HyperThreading -and $scheduler.Code -ne 1) {
    $why = if ($scheduler.Code -eq 3) {
        'the core scheduler keeps each VM alone on its core (the sibling thread idles), which the classic scheduler of the paper does not'
    } else {
        'a load VM (or the host) can run on the sibling thread of the test VM''s core: contention the paper''s processor, which had no Hyper-Threading, never had'
    }
    Write-Warning "Hyper-Threading is on: $why. Disable it in the firmware setup, or see docs/hyper-v.md."
}

$vms = @(@{ Role = 'test'; Name = (Get-HvrtVmName $Prefix $Scenario $Variant $Generation 'test') })
$n = 0
foreach ($role in $plan.Loads) {
    $n++
    $vms += @{ Role = $role; Name = (Get-HvrtVmName $Prefix $Scenario $Variant $Generation "load$n") }
}
foreach ($vm in $vms) {
    if (Hyper-V\Get-VM -Name $vm.Name -ErrorAction SilentlyContinue) {
        throw "A VM named $($vm.Name) exists already; remove it first (Remove-HvrtScenario.ps1)."
    }
    $vm.Disk = Join-Path $VmRoot "$($vm.Name)$diskExt"
    # Only the test VM's runs are results (a load VM's run only says that it ran).
    if ($vm.Role -ne 'test') { continue }
    $pending = @(Get-HvrtUncollectedRuns $vm.Disk)
    if ($pending.Count -gt 0) {
        throw ("$($vm.Disk) holds results not collected yet ($($pending -join ', ')), and this " +
            "would replace it: run Get-HvrtResults.ps1 -Scenario $Scenario -Variant $Variant " +
            "-Generation $Generation -Destination <dir> first (or move the disk away).")
    }
}

# --- Make the VMs: all of them, or none. ---

New-Item -ItemType Directory -Force -Path $VmRoot | Out-Null
if ($ConvertVhd) {
    $converted = Join-Path $VmRoot ([IO.Path]::GetFileNameWithoutExtension($vhdPath) + '-converted.vhdx')
    if ($PSCmdlet.ShouldProcess($converted, "Convert-VHD from $vhdPath")) {
        # Converted afresh each time: the VHD may have been rebuilt since.
        Remove-Item -LiteralPath $converted -Force -ErrorAction SilentlyContinue
        Hyper-V\Convert-VHD -Path $vhdPath -DestinationPath $converted -VHDType Dynamic
        Write-Host "converted $vhdPath to $converted (Hyper-V's Convert-VHD)"
    }
    $vhdPath = $converted
}

$hwThreads = (Get-Command Hyper-V\Set-VMProcessor).Parameters.ContainsKey('HwThreadCountPerCore')
$records = @()
$made = @()
$expectedSeconds = $null
try {
    foreach ($vm in $vms) {
        $name = $vm.Name
        $disk = $vm.Disk
        if (-not $PSCmdlet.ShouldProcess($name, "create $($vm.Role) VM (Generation $Generation) with disk $disk")) { continue }

        Copy-Item -LiteralPath $vhdPath -Destination $disk -Force
        $made += , @{ Name = $null; Disk = $disk }
        Remove-Item -LiteralPath "$disk.collected" -ErrorAction SilentlyContinue
        # The scenario goes into every VM's run.json, so that report groups the runs by it.
        $config = @{ role = $vm.Role; scenario = "$Scenario" }
        if ($vm.Role -eq 'test') {
            foreach ($k in $TestConfig.Keys) { $config[$k] = $TestConfig[$k] }
        } else {
            # A load runs until the machine's timeout: long enough to outlast the test VM.
            $config['timeout'] = '6h'
            foreach ($k in $LoadConfig.Keys) { $config[$k] = $LoadConfig[$k] }
        }
        $root = Mount-HvrtVolume -Path $disk
        try {
            if ($BenchConf) { Copy-Item -LiteralPath $BenchConf -Destination (Join-Path $root 'bench.conf') -Force }
            $planText = Set-HvrtConfig -Root $root -Values $config
        } finally {
            Hyper-V\Dismount-VHD -Path $disk
        }
        if ($vm.Role -eq 'test') { $expectedSeconds = Get-HvrtPlanSeconds $planText }

        # -VHDPath attaches the disk to IDE 0:0 (generation 1) or SCSI 0:0 (generation 2).
        Hyper-V\New-VM -Name $name -Generation $Generation -MemoryStartupBytes $MemoryBytes -VHDPath $disk | Out-Null
        $made[-1].Name = $name
        if ($Generation -eq 2) {
            # GRUB is not signed for Secure Boot (docs/hyper-v.md); boot from the disk first.
            Hyper-V\Set-VMFirmware -VMName $name -EnableSecureBoot Off `
                -FirstBootDevice (Hyper-V\Get-VMHardDiskDrive -VMName $name | Select-Object -First 1)
        }
        Hyper-V\Set-VMMemory -VMName $name -DynamicMemoryEnabled $false
        $reserve = if ($vm.Role -eq 'test') { $TestReserve } else { $LoadReserve }
        Hyper-V\Set-VMProcessor -VMName $name -Count 1 -Reserve $reserve -Maximum 100
        # The paper's processor had no SMT: one thread per core in the VM too.
        if ($hwThreads) { Hyper-V\Set-VMProcessor -VMName $name -HwThreadCountPerCore 1 }
        # Generation 2 has COM ports only this way; the pipe is there before the VM starts.
        Hyper-V\Set-VMComPort -VMName $name -Number 1 -Path "\\.\pipe\$name"
        Hyper-V\Set-VM -Name $name -CheckpointType Disabled -AutomaticStartAction Nothing -AutomaticStopAction TurnOff
        Hyper-V\Get-VMNetworkAdapter -VMName $name | Hyper-V\Remove-VMNetworkAdapter
        $legacy = $variantInfo.NetworkAdapter -eq 'legacy'
        if ($SwitchName) {
            Hyper-V\Add-VMNetworkAdapter -VMName $name -IsLegacy $legacy -SwitchName $SwitchName
        } else {
            Hyper-V\Add-VMNetworkAdapter -VMName $name -IsLegacy $legacy
        }
        if ($CpuGroupId) {
            $out = Invoke-HvrtTool $CpuGroupsExe @('SetVmGroup', "/VmName:$name", "/GroupId:$CpuGroupId")
            if ($LASTEXITCODE -ne 0) {
                throw "$CpuGroupsExe SetVmGroup /VmName:$name /GroupId:$CpuGroupId failed: $($out.Trim())"
            }
        }
        $record = Get-HvrtVmRecord $name
        $record.Role = $vm.Role
        $record.BenchConf = [ordered]@{ Base = if ($BenchConf) { $BenchConf } else { 'the image''s' }; Set = $config }
        $records += , $record
        $controller = if ($Generation -eq 2) { 'SCSI 0:0, UEFI, Secure Boot off' } else { 'IDE 0:0, BIOS' }
        Write-Host ("created $name ($($vm.Role)): Gen $Generation, 1 vCPU reserve $reserve % limit 100 %, " +
            "COM1 \\.\pipe\$name, disk $disk ($controller)")
    }
} catch {
    $failure = $_
    Write-Warning "creating the VMs failed ($($failure.Exception.Message)); removing what was made"
    foreach ($m in $made) {
        if ($m.Name) { Hyper-V\Remove-VM -Name $m.Name -Force -ErrorAction SilentlyContinue }
        Remove-Item -LiteralPath $m.Disk -Force -ErrorAction SilentlyContinue
    }
    throw $failure
}

if ($records.Count -gt 0) {
    $reserveWhy = if ($shared -and $plan.Loads.Count -gt 0) {
        ('The paper gives each VM one physical processor (reserve and limit); here the VMs share ' +
            'one, where two reserves of 100 % do not fit. The test VM keeps the setting of ' +
            'scenario 2 and the load VM runs in the time it leaves.')
    } else {
        'The paper: one physical processor allocated to each VM with the virtual machine reserve and limit.'
    }
    Write-HvrtJson $recordPath ([ordered]@{
        Scenario = $Scenario
        ScenarioName = $plan.Name
        Variant = $Variant
        Generation = $Generation
        Image = $vhdPath
        Created = (Get-Date).ToString('o')
        Host = $hostRecord
        CpuGroup = $cpuGroup
        ProcessorSettings = [ordered]@{
            TestReserve = $TestReserve; LoadReserve = $LoadReserve; Limit = 100; Why = $reserveWhy
        }
        # What Get-HvrtResults.ps1 waits out before it asks Hyper-V whether the test VM is off.
        TestPlan = [ordered]@{ ExpectedSeconds = $expectedSeconds }
        Vms = $records
    })
    Write-Host "recorded the host and the VM settings in $recordPath"
}

if ($Start) {
    $loads = $vms | Where-Object { $_.Role -ne 'test' }
    foreach ($vm in $loads) { Hyper-V\Start-VM -Name $vm.Name; Write-Host "started $($vm.Name)" }
    if ($loads) {
        Write-Host "letting the loads settle for $SettleSeconds s"
        Start-Sleep -Seconds $SettleSeconds
    }
    Hyper-V\Start-VM -Name $vms[0].Name
    Write-Host "started $($vms[0].Name); it powers itself off when done (Get-HvrtResults.ps1 waits for that)"
}
