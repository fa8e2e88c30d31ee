# Shared by the hvrt Hyper-V scripts (dot-sourced). Needs the Hyper-V and Storage modules
# (Windows 10/11 Pro or Windows Server with the Hyper-V role) and an elevated PowerShell:
# the scripts that dot-source it say so with #Requires, which stops them before anything
# runs where either is missing (unelevated, Hyper-V's cmdlets return nothing without an
# error). Hyper-V's cmdlets are called by their module-qualified names (Hyper-V\Get-VM), as
# another vendor's module (VMware PowerCLI) may bring commands of the same names.

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

# --- Paths ---

# The full file system path of $Path as the caller's shell sees it: relative to the
# shell's current location (not the process's, which .NET methods such as
# [IO.File]::WriteAllText would use), wildcards taken literally, whether or not it exists.
function Resolve-HvrtPath([string]$Path) {
    $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path)
}

# --- Variants ---

# KEY="value" lines of a variant.conf (comments and blank lines skipped) as a hashtable.
function ConvertFrom-HvrtVariantConf([string]$Text) {
    $values = @{}
    foreach ($line in $Text -split "\r?\n") {
        if ($line -match '^([A-Z0-9_]+)="(.*)"\s*$' -or $line -match '^([A-Z0-9_]+)=([^"]*)$') {
            $values[$Matches[1]] = $Matches[2]
        }
    }
    $values
}

# A variant as its directory beside these scripts describes it (board/hyperv/<variant>/
# variant.conf; a variant is such a directory with a defconfig, nothing else names them).
function Get-HvrtVariant([string]$Name) {
    $known = @(Get-ChildItem -LiteralPath $PSScriptRoot -Directory |
        Where-Object { Test-Path -LiteralPath (Join-Path $_.FullName 'variant.conf') } |
        ForEach-Object Name)
    if ($Name -notin $known) {
        throw "No variant '$Name': the variants are the directories of $PSScriptRoot with a variant.conf ($($known -join ', '))."
    }
    $file = Join-Path (Join-Path $PSScriptRoot $Name) 'variant.conf'
    $conf = ConvertFrom-HvrtVariantConf ([IO.File]::ReadAllText($file))
    [ordered]@{
        Name = $Name
        Label = $conf['LABEL']
        Generations = @(-split [string]$conf['GENERATIONS'] | ForEach-Object { [int]$_ })
        GenerationsWhy = $conf['GENERATIONS_WHY']
        NetworkAdapter = $conf['NETWORK_ADAPTER']
        File = $file
    }
}

# Throw, naming the reason, unless the variant's image boots on Hyper-V generation $Generation.
function Assert-HvrtGeneration($Variant, [int]$Generation) {
    if ($Generation -in $Variant.Generations) { return }
    $why = if ($Variant.GenerationsWhy) { ": $($Variant.GenerationsWhy)" } else { '' }
    $others = @(Get-ChildItem -LiteralPath $PSScriptRoot -Directory | ForEach-Object {
        $f = Join-Path $_.FullName 'variant.conf'
        if ((Test-Path -LiteralPath $f) -and
            ($Generation -in @(Get-HvrtVariant $_.Name).Generations)) { $_.Name }
    })
    throw ("The $($Variant.Name) image runs only as Generation $($Variant.Generations -join ' or ') " +
        "(GENERATIONS=`"$($Variant.Generations -join ' ')`" in $($Variant.File))$why. Leave out " +
        "-Generation $Generation, or use the image of a variant that runs as Generation " +
        "${Generation}: $($others -join ', ').")
}

# The paper's seven scenarios. HostCpus: 'one' = the scenario's VMs must share one logical
# processor (a one-processor host, or a CPU group of one processor; see docs/hyper-v.md);
# 'all' = every processor. Loads: the roles of the load VMs started beside the test VM ("UTVM").
$HvrtScenarios = @{
    1 = @{ Name = 'one-to-all';                   HostCpus = 'all'; Loads = @() }
    2 = @{ Name = 'one-to-one';                   HostCpus = 'one'; Loads = @() }
    3 = @{ Name = 'contention, 1 CPU-load VM';    HostCpus = 'one'; Loads = @('cpu-load') }
    4 = @{ Name = 'contention, 1 memory-load VM'; HostCpus = 'one'; Loads = @('memory-load') }
    5 = @{ Name = 'all-to-all, 3 CPU-load VMs';   HostCpus = 'all'; Loads = @('cpu-load', 'cpu-load', 'cpu-load') }
    6 = @{ Name = 'all-to-all, 3 memory-load VMs'; HostCpus = 'all'; Loads = @('memory-load', 'memory-load', 'memory-load') }
    7 = @{ Name = 'two-to-all, 1 memory-load VM'; HostCpus = 'all'; Loads = @('memory-load') }
}

# What names a scenario's VMs, record and results: s<scenario>-<variant>, and -gen2 for
# Generation 2 (Generation 1, the paper's, keeps the plain name).
function Get-HvrtScenarioTag([int]$Scenario, [string]$Variant, [int]$Generation) {
    if ($Generation -eq 2) { "s$Scenario-$Variant-gen2" } else { "s$Scenario-$Variant" }
}

# VM names: <prefix>-<tag>-test, ...-load1, ...-load2, ...
function Get-HvrtVmName([string]$Prefix, [int]$Scenario, [string]$Variant, [int]$Generation, [string]$Role) {
    "$Prefix-$(Get-HvrtScenarioTag $Scenario $Variant $Generation)-$Role"
}

# The record New-HvrtScenario.ps1 writes beside the disk copies, and Get-HvrtResults.ps1 reads.
function Get-HvrtRecordPath([string]$VmRoot, [string]$Prefix, [int]$Scenario, [string]$Variant, [int]$Generation) {
    Join-Path $VmRoot "$Prefix-$(Get-HvrtScenarioTag $Scenario $Variant $Generation).json"
}

# A property of an object, or $null when it has none (strict mode throws on a missing one).
function Get-HvrtProperty($Object, [string]$Name) {
    if ($null -eq $Object) { return $null }
    $p = $Object.PSObject.Properties[$Name]
    if ($p) { $p.Value } else { $null }
}

# Mount a VHD/VHDX and return the root of its HVRT volume ("E:\"). The caller dismounts; when
# anything here fails, the VHD is dismounted before the error goes on. Mounting is no change
# that -WhatIf should skip: the checks read the disks under -WhatIf too. A disk still
# attached (a run stopped half-way, or mounted by hand) is refused: dismounting it here could
# take it from under whoever attached it.
function Mount-HvrtVolume([string]$Path, [switch]$ReadOnly) {
    if ((Hyper-V\Get-VHD -Path $Path).Attached) {
        throw ("$Path is attached already (mounted by hand, or by a run that was stopped " +
            "half-way): close what uses it, Dismount-VHD -Path '$Path', then run this again.")
    }
    $vhd = if ($ReadOnly) {
        Hyper-V\Mount-VHD -Path $Path -ReadOnly -Passthru -WhatIf:$false
    } else {
        Hyper-V\Mount-VHD -Path $Path -Passthru -WhatIf:$false
    }
    $mounted = $false
    try {
        # Right after the mount, the disk may not be there for Get-Disk yet: ask again.
        $disk = $null
        for ($i = 0; -not $disk; $i++) {
            try {
                $disk = $vhd | Storage\Get-Disk
            } catch {
                if ($i -ge 20) { throw "$Path was mounted, but Windows shows no disk for it: $($_.Exception.Message)" }
                Start-Sleep -Milliseconds 500
            }
        }
        # Windows assigns drive letters a moment after the mount; ask again for a few seconds.
        for ($i = 0; $i -lt 20; $i++) {
            $part = $disk | Storage\Get-Partition |
                Where-Object { ($_ | Storage\Get-Volume -ErrorAction SilentlyContinue).FileSystemLabel -eq 'HVRT' } |
                Select-Object -First 1
            if ($part -and $part.DriveLetter -and $part.DriveLetter -ne [char]0) {
                $mounted = $true
                return "$($part.DriveLetter):\"
            }
            if ($part -and $i -eq 5) {
                $part | Storage\Add-PartitionAccessPath -AssignDriveLetter -ErrorAction SilentlyContinue -WhatIf:$false
            }
            Start-Sleep -Milliseconds 500
        }
        throw "$Path has no FAT volume labelled HVRT with a drive letter: is it an hvrt image?"
    } finally {
        if (-not $mounted) { Hyper-V\Dismount-VHD -Path $Path -ErrorAction SilentlyContinue -WhatIf:$false }
    }
}

# The variant an image says it is (variant.txt on its HVRT volume, written by post-image.sh),
# or $null when it has no such file.
function Get-HvrtImageVariant([string]$Path) {
    $root = Mount-HvrtVolume -Path $Path -ReadOnly
    try {
        $file = Join-Path $root 'variant.txt'
        if (Test-Path -LiteralPath $file) { ([IO.File]::ReadAllText($file)).Trim() } else { $null }
    } finally {
        Hyper-V\Dismount-VHD -Path $Path -WhatIf:$false
    }
}

# Throw unless the image at $Path is the $Variant image.
function Assert-HvrtImageVariant([string]$Path, [string]$Variant) {
    $found = Get-HvrtImageVariant $Path
    if ($null -eq $found) {
        throw ("$Path has no variant.txt on its HVRT volume, so nothing tells which image it is: " +
            "use an image built by this tree's make (post-image.sh writes variant.txt).")
    }
    if ($found -ne $Variant) {
        throw "$Path is the $found image, not $Variant (its variant.txt says so): pass -Variant $found, or the $Variant image."
    }
}

# The run ids in a disk's results\ directory ([] when the disk does not exist).
function Get-HvrtDiskRuns([string]$Disk) {
    if (-not (Test-Path -LiteralPath $Disk)) { return @() }
    $root = Mount-HvrtVolume -Path $Disk -ReadOnly
    try {
        @(Get-ChildItem -Directory -LiteralPath (Join-Path $root 'results') -ErrorAction SilentlyContinue |
            ForEach-Object Name)
    } finally {
        Hyper-V\Dismount-VHD -Path $Disk -WhatIf:$false
    }
}

# Get-HvrtResults.ps1 notes each run it copied out of a disk in <disk>.collected, one
# "<run-id><TAB><where to>" line per run.
function Get-HvrtCollectedRuns([string]$Disk) {
    $file = "$Disk.collected"
    if (-not (Test-Path -LiteralPath $file)) { return @() }
    @(Get-Content -LiteralPath $file -Encoding UTF8 | Where-Object { $_ } | ForEach-Object { ($_ -split "`t")[0] })
}

function Add-HvrtCollectedRun([string]$Disk, [string]$RunId, [string]$To) {
    if ($RunId -notin @(Get-HvrtCollectedRuns $Disk)) {
        [IO.File]::AppendAllText("$Disk.collected", "$RunId`t$To`r`n", (New-Object Text.UTF8Encoding $false))
    }
}

# The runs on a disk that Get-HvrtResults.ps1 has not copied out yet.
function Get-HvrtUncollectedRuns([string]$Disk) {
    $collected = @(Get-HvrtCollectedRuns $Disk)
    @(Get-HvrtDiskRuns $Disk | Where-Object { $_ -notin $collected })
}

# Set "key = value" lines in bench.conf (replacing the key's line, or appending it), keeping
# the file's line endings and writing it without a byte-order mark.
function Set-HvrtConfig([string]$Root, [hashtable]$Values) {
    $file = Join-Path $Root 'bench.conf'
    $text = if (Test-Path -LiteralPath $file) { [IO.File]::ReadAllText($file) } else { '' }
    $text = Edit-HvrtConfigText $text $Values
    [IO.File]::WriteAllText($file, $text, (New-Object Text.UTF8Encoding $false))
    $text
}

# bench.conf's text with "key = value" lines set (the key's line replaced, or appended),
# keeping its line endings. Values are taken literally: a "$" in one is no regex
# substitution.
function Edit-HvrtConfigText([string]$Text, [hashtable]$Values) {
    $text = $Text
    $eol = if ($text.Contains("`r`n")) { "`r`n" } else { "`n" }
    # A test's length is a count or a duration: setting one comments out the other.
    $alternatives = @{
        'clock_tick.samples' = 'clock_tick.duration'
        'clock_tick.duration' = 'clock_tick.samples'
        'thread_switch.switches' = 'thread_switch.duration'
        'thread_switch.duration' = 'thread_switch.switches'
        'wakeup.loops' = 'wakeup.duration'
        'wakeup.duration' = 'wakeup.loops'
    }
    foreach ($key in $Values.Keys) {
        if ($alternatives.ContainsKey($key) -and -not $Values.ContainsKey($alternatives[$key])) {
            $other = '(?m)^([ \t]*' + [regex]::Escape($alternatives[$key]) + '[ \t]*=)'
            $text = [regex]::Replace($text, $other, '# $1')
        }
        $value = [string]$Values[$key]
        if ($key -notmatch '^[A-Za-z0-9_.]+$') {
            throw "bench.conf key '$key': letters, digits, '_' and '.' only (see docs/config.md)."
        }
        if ($value -match '[\r\n#]') {
            throw "bench.conf value of ${key}: one line, without '#' (it starts a comment)."
        }
        $line = "$key = $value"
        $pattern = '(?m)^[ \t]*' + [regex]::Escape($key) + '[ \t]*=.*?(?=\r?$)'
        if ([regex]::IsMatch($text, $pattern)) {
            # In a .NET replacement "$$" is one literal "$".
            $text = [regex]::Replace($text, $pattern, $line.Replace('$', '$$'))
        } else {
            if ($text.Length -gt 0 -and -not $text.EndsWith("`n")) { $text += $eol }
            $text += $line + $eol
        }
    }
    $text
}

# A duration of bench.conf ("2m", "1h30m", "90": seconds) in seconds (docs/config.md).
function ConvertFrom-HvrtDuration([string]$Text) {
    $units = @{ 'ns' = 1e-9; 'us' = 1e-6; 'ms' = 1e-3; 's' = 1; 'm' = 60; 'min' = 60; 'h' = 3600; 'd' = 86400 }
    $t = $Text.Trim()
    if ($t -match '^[0-9_.]+$') { return [double]($t -replace '_', '') }
    $part = '([0-9_.]+)\s*(ns|us|ms|min|s|m|h|d)'
    if ($t -notmatch "^($part\s*)+$") { throw "bench.conf: '$Text' is not a duration (e.g. 90s, 2m, 1h30m)." }
    $seconds = 0.0
    foreach ($m in [regex]::Matches($t, $part)) {
        $seconds += [double]($m.Groups[1].Value -replace '_', '') * $units[$m.Groups[2].Value]
    }
    $seconds
}

# How long a test VM's plan (bench.conf's text) should take, in seconds, from power-on to
# power-off: the tests' lengths as docs/config.md gives them (the measuring bursts' pauses
# included), a little for the boot, never more than the plan's timeout. An estimate: it
# tells Get-HvrtResults.ps1 how long to leave the host alone before it asks Hyper-V.
function Get-HvrtPlanSeconds([string]$Text) {
    $v = @{}
    foreach ($line in $Text -split "\r?\n") {
        if ($line -match '^\s*([A-Za-z0-9_.]+)\s*=\s*([^#]*)') { $v[$Matches[1]] = $Matches[2].Trim() }
    }
    $get = { param($key, $default) if ($v.ContainsKey($key) -and $v[$key]) { $v[$key] } else { $default } }
    $tests = @((& $get 'tests' 'clock-tick, thread-switch, wakeup') -split ',' | ForEach-Object { $_.Trim().ToLower() })
    $seconds = 30.0
    if ('clock-tick' -in $tests) {
        if ($v.ContainsKey('clock_tick.duration')) {
            $seconds += ConvertFrom-HvrtDuration $v['clock_tick.duration']
        } else {
            $samples = [double]((& $get 'clock_tick.samples' '50000000') -replace '_', '')
            $loop = [double](& $get 'clock_tick.loop_us' '68')
            # Bursts of 500 ms with 2 ms sleeps between them.
            $seconds += $samples * $loop / 1e6 * 502 / 500
        }
    }
    if ('thread-switch' -in $tests) {
        $runs = @((& $get 'thread_switch.threads' '2, 1000') -split ',').Count
        $each = if ($v.ContainsKey('thread_switch.switches')) { 1.0 } else {
            ConvertFrom-HvrtDuration (& $get 'thread_switch.duration' '2m')
        }
        $seconds += $runs * $each
    }
    if ('osnoise' -in $tests) { $seconds += ConvertFrom-HvrtDuration (& $get 'osnoise.duration' '60s') }
    if ('wakeup' -in $tests) {
        if ($v.ContainsKey('wakeup.loops')) {
            $seconds += [double]($v['wakeup.loops'] -replace '_', '') * [double](& $get 'wakeup.interval_us' '1000') / 1e6
        } else {
            $seconds += ConvertFrom-HvrtDuration (& $get 'wakeup.duration' '60s')
        }
    }
    if ('timerlat' -in $tests) { $seconds += ConvertFrom-HvrtDuration (& $get 'timerlat.duration' '60s') }
    [int][Math]::Min($seconds, (ConvertFrom-HvrtDuration (& $get 'timeout' '3h')))
}

# Wait until a VM is off without asking Hyper-V every few seconds while it measures (the
# host should stay idle: the root partition's work can land on the test VM's processor):
# sleep through what is left of the plan's expected length (by the VM's uptime), then ask
# once a minute until the timeout. Returns what it did, for hyperv.json.
function Wait-HvrtVmOff([string]$Name, [int]$ExpectedSeconds, [int]$TimeoutMinutes) {
    $deadline = (Get-Date).AddMinutes($TimeoutMinutes)
    $vm = Hyper-V\Get-VM -Name $Name
    $quiet = 0
    if ($vm.State -ne 'Off' -and $ExpectedSeconds -gt 0) {
        $left = $ExpectedSeconds - $vm.Uptime.TotalSeconds
        $quiet = [int][Math]::Max(0, [Math]::Min($left, ($deadline - (Get-Date)).TotalSeconds))
        if ($quiet -gt 0) {
            Write-Host ("$Name has been up $([int]$vm.Uptime.TotalMinutes) min of the plan's expected " +
                "$([int]($ExpectedSeconds / 60)) min: leaving the host alone for $([int]($quiet / 60)) min, then asking Hyper-V once a minute")
            Start-Sleep -Seconds $quiet
        }
    }
    $polls = 0
    $off = $true
    while ((Hyper-V\Get-VM -Name $Name).State -ne 'Off') {
        if ((Get-Date) -gt $deadline) { $off = $false; break }
        Start-Sleep -Seconds 60
        $polls++
    }
    [ordered]@{
        Off = $off
        ExpectedSeconds = $ExpectedSeconds
        QuietSeconds = $quiet
        PollSeconds = 60
        Polls = $polls
    }
}

# The hypervisor scheduler type, as Microsoft documents reading it ("Manage Hyper-V hypervisor
# scheduler types"): in effect = the latest hypervisor launch event ID 2 of the provider
# Microsoft-Windows-Hyper-V-Hypervisor ("Hypervisor scheduler type is 0x2."); configured =
# the hypervisorschedulertype BCD entry (bcdedit /set hypervisorschedulertype Classic|Core|Root).
function Get-HvrtSchedulerType {
    $names = @{ 1 = 'classic, SMT disabled'; 2 = 'classic'; 3 = 'core'; 4 = 'root' }
    $code = $null
    $inEffect = 'unknown: no hypervisor launch event ID 2 in the System log'
    try {
        $launch = Get-WinEvent -MaxEvents 1 -FilterHashtable @{
            ProviderName = 'Microsoft-Windows-Hyper-V-Hypervisor'; ID = 2
        }
        if ($launch.Message -match '0x([0-9A-Fa-f]+)') {
            $code = [Convert]::ToInt32($Matches[1], 16)
            $inEffect = if ($names.ContainsKey($code)) { $names[$code] } else { "unknown type $code" }
        }
    } catch {
        $inEffect = "unknown: $($_.Exception.Message)"
    }
    $configured = 'not set (this Windows version''s default)'
    try {
        $bcd = Invoke-HvrtTool 'bcdedit.exe' @('/enum', '{current}')
        if ($LASTEXITCODE -ne 0) {
            $configured = "unknown: bcdedit failed: $($bcd.Trim())"
        } elseif ($bcd -match '(?im)^\s*hypervisorschedulertype\s+(\S+)') {
            $configured = $Matches[1]
        }
    } catch {
        $configured = "unknown: bcdedit failed: $($_.Exception.Message)"
    }
    [ordered]@{ InEffect = $inEffect; Code = $code; Configured = $configured }
}

# What the paper's results depend on, read from this host: Windows and Hyper-V versions, the
# processor, its logical processors and Hyper-Threading, the hypervisor scheduler type.
function Get-HvrtHostRecord {
    $os = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    # The registry's ProductName still says "Windows 10" on Windows 11; the caption does not.
    $caption = (Get-CimInstance -ClassName Win32_OperatingSystem).Caption
    $cpus = @(Get-CimInstance -ClassName Win32_Processor)
    $cores = ($cpus | Measure-Object -Property NumberOfCores -Sum).Sum
    $threads = ($cpus | Measure-Object -Property NumberOfLogicalProcessors -Sum).Sum
    $hv = [ordered]@{}
    foreach ($exe in 'vmms.exe', 'hvix64.exe', 'hvax64.exe') {
        $f = Join-Path $env:windir "System32\$exe"
        if (Test-Path $f) { $hv[$exe] = (Get-Item $f).VersionInfo.ProductVersion }
    }
    try {
        $hv['default VM configuration version'] = [string](Hyper-V\Get-VMHostSupportedVersion -Default).Version
    } catch {
        $hv['default VM configuration version'] = "unknown: $($_.Exception.Message)"
    }
    [ordered]@{
        Computer = $env:COMPUTERNAME
        Windows = ($caption, (Get-HvrtProperty $os 'DisplayVersion') | Where-Object { $_ }) -join ' '
        WindowsBuild = "$(Get-HvrtProperty $os 'CurrentBuild').$(Get-HvrtProperty $os 'UBR')"
        HyperV = $hv
        Processor = @($cpus | ForEach-Object { $_.Name.Trim() } | Select-Object -Unique) -join '; '
        Sockets = $cpus.Count
        Cores = $cores
        LogicalProcessors = (Hyper-V\Get-VMHost).LogicalProcessorCount
        HyperThreading = ($threads -gt $cores)
        Scheduler = Get-HvrtSchedulerType
    }
}

# A VM's settings as Hyper-V reports them now.
function Get-HvrtVmRecord([string]$Name) {
    $vm = Hyper-V\Get-VM -Name $Name
    $cpu = Hyper-V\Get-VMProcessor -VMName $Name
    $mem = Hyper-V\Get-VMMemory -VMName $Name
    # Generation 1 boots through BIOS, generation 2 through UEFI (Secure Boot and its template).
    $firmware = if ($vm.Generation -eq 2) {
        $fw = Hyper-V\Get-VMFirmware -VMName $Name
        [ordered]@{
            Type = 'UEFI'
            SecureBoot = [string]$fw.SecureBoot
            SecureBootTemplate = [string](Get-HvrtProperty $fw 'SecureBootTemplate')
            BootOrder = @($fw.BootOrder | ForEach-Object { [string]$_.BootType + ' ' + [string]$_.Device })
        }
    } else {
        [ordered]@{
            Type = 'BIOS'
            StartupOrder = @((Hyper-V\Get-VMBios -VMName $Name).StartupOrder | ForEach-Object { [string]$_ })
        }
    }
    [ordered]@{
        Name = $Name
        State = [string]$vm.State
        Generation = $vm.Generation
        Firmware = $firmware
        ConfigurationVersion = [string]$vm.Version
        Processor = [ordered]@{
            Count = $cpu.Count
            Reserve = $cpu.Reserve
            Maximum = $cpu.Maximum
            RelativeWeight = $cpu.RelativeWeight
            HwThreadCountPerCore = Get-HvrtProperty $cpu 'HwThreadCountPerCore'
        }
        MemoryBytes = $mem.Startup
        DynamicMemory = $mem.DynamicMemoryEnabled
        LegacyNetworkAdapter = @(Hyper-V\Get-VMNetworkAdapter -VMName $Name | ForEach-Object IsLegacy)
        # Each disk and the controller it sits on: IDE on generation 1, SCSI on generation 2.
        Disks = @(Hyper-V\Get-VMHardDiskDrive -VMName $Name | ForEach-Object {
            [ordered]@{
                Path = $_.Path
                Controller = "$($_.ControllerType) $($_.ControllerNumber):$($_.ControllerLocation)"
            }
        })
        ComPorts = @(Hyper-V\Get-VMComPort -VMName $Name | ForEach-Object {
            [ordered]@{ Name = $_.Name; Path = $_.Path }
        })
    }
}

# Run a native tool and return what it printed, stdout and stderr (Windows PowerShell turns a
# native command's stderr into errors, which would stop the script with the bare text).
function Invoke-HvrtTool([string]$Exe, [string[]]$Arguments) {
    $saved = $ErrorActionPreference
    $ErrorActionPreference = 'Continue'
    try {
        & $Exe @Arguments 2>&1 | ForEach-Object { "$_" } | Out-String
    } finally {
        $ErrorActionPreference = $saved
    }
}

# The LP indexes of a CPU group, from "CpuGroups.exe GetGroups /GroupId:<id>" (Microsoft's tool
# for CPU groups, which only the Host Compute Service manages; see docs/hyper-v.md).
function Get-HvrtCpuGroupLps([string]$CpuGroupsExe, [string]$GroupId) {
    if (-not (Get-Command $CpuGroupsExe -ErrorAction SilentlyContinue)) {
        throw ("No $CpuGroupsExe: get Microsoft's CpuGroups tool (Microsoft Download Center, see " +
            "docs/hyper-v.md) and pass its path as -CpuGroupsExe.")
    }
    $out = Invoke-HvrtTool $CpuGroupsExe @('GetGroups', "/GroupId:$GroupId")
    if ($LASTEXITCODE -ne 0) { throw "$CpuGroupsExe GetGroups /GroupId:$GroupId failed: $($out.Trim())" }
    $line = $out -split "`r?`n" | Where-Object { $_ -match [regex]::Escape($GroupId) } | Select-Object -First 1
    if (-not $line) {
        throw "No CPU group $GroupId on this host: create it with $CpuGroupsExe CreateGroup /GroupId:$GroupId /GroupAffinity:<LP indexes>."
    }
    $fields = @(-split $line)
    @($fields[-1] -split ',' | Where-Object { $_ -match '^\d+$' } | ForEach-Object { [int]$_ })
}

# A JSON file's content (UTF-8: Windows PowerShell 5.1 reads a file without a byte-order mark
# in the ANSI code page unless told).
function Read-HvrtJson([string]$Path) {
    Get-Content -Raw -Encoding UTF8 -LiteralPath $Path | ConvertFrom-Json
}

# Write an object as JSON (UTF-8 without a byte-order mark).
function Write-HvrtJson([string]$Path, $Object) {
    $json = $Object | ConvertTo-Json -Depth 8
    [IO.File]::WriteAllText($Path, $json + "`n", (New-Object Text.UTF8Encoding $false))
}
