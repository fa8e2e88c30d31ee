# Shared by the hvrt Hyper-V scripts (dot-sourced). Needs the Hyper-V and Storage modules
# (Windows 10/11 Pro or Windows Server with the Hyper-V role) and an elevated PowerShell.

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

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

# VM names: <prefix>-s<scenario>-<variant>-test, ...-load1, ...-load2, ...
function Get-HvrtVmName([string]$Prefix, [int]$Scenario, [string]$Variant, [string]$Role) {
    "$Prefix-s$Scenario-$Variant-$Role"
}

# The record New-HvrtScenario.ps1 writes beside the disk copies, and Get-HvrtResults.ps1 reads.
function Get-HvrtRecordPath([string]$VmRoot, [string]$Prefix, [int]$Scenario, [string]$Variant) {
    Join-Path $VmRoot "$Prefix-s$Scenario-$Variant.json"
}

# A property of an object, or $null when it has none (strict mode throws on a missing one).
function Get-HvrtProperty($Object, [string]$Name) {
    if ($null -eq $Object) { return $null }
    $p = $Object.PSObject.Properties[$Name]
    if ($p) { $p.Value } else { $null }
}

# Mount a VHD/VHDX and return the root of its HVRT volume ("E:\"). The caller dismounts; when
# anything here fails, the VHD is dismounted before the error goes on. Mounting is no change
# that -WhatIf should skip: the checks read the disks under -WhatIf too.
function Mount-HvrtVolume([string]$Path, [switch]$ReadOnly) {
    $vhd = if ($ReadOnly) {
        Mount-VHD -Path $Path -ReadOnly -Passthru -WhatIf:$false
    } else {
        Mount-VHD -Path $Path -Passthru -WhatIf:$false
    }
    $mounted = $false
    try {
        $disk = $vhd | Get-Disk
        # Windows assigns drive letters a moment after the mount; ask again for a few seconds.
        for ($i = 0; $i -lt 20; $i++) {
            $part = $disk | Get-Partition |
                Where-Object { ($_ | Get-Volume -ErrorAction SilentlyContinue).FileSystemLabel -eq 'HVRT' } |
                Select-Object -First 1
            if ($part -and $part.DriveLetter -and $part.DriveLetter -ne [char]0) {
                $mounted = $true
                return "$($part.DriveLetter):\"
            }
            if ($part -and $i -eq 5) {
                $part | Add-PartitionAccessPath -AssignDriveLetter -ErrorAction SilentlyContinue -WhatIf:$false
            }
            Start-Sleep -Milliseconds 500
        }
        throw "$Path has no FAT volume labelled HVRT with a drive letter: is it an hvrt image?"
    } finally {
        if (-not $mounted) { Dismount-VHD -Path $Path -ErrorAction SilentlyContinue -WhatIf:$false }
    }
}

# The variant an image says it is (variant.txt on its HVRT volume, written by post-image.sh),
# or $null when it has no such file.
function Get-HvrtImageVariant([string]$Path) {
    $root = Mount-HvrtVolume -Path $Path -ReadOnly
    try {
        $file = Join-Path $root 'variant.txt'
        if (Test-Path $file) { ([IO.File]::ReadAllText($file)).Trim() } else { $null }
    } finally {
        Dismount-VHD -Path $Path -WhatIf:$false
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
    if (-not (Test-Path $Disk)) { return @() }
    $root = Mount-HvrtVolume -Path $Disk -ReadOnly
    try {
        @(Get-ChildItem -Directory -Path (Join-Path $root 'results') -ErrorAction SilentlyContinue |
            ForEach-Object Name)
    } finally {
        Dismount-VHD -Path $Disk -WhatIf:$false
    }
}

# Get-HvrtResults.ps1 notes each run it copied out of a disk in <disk>.collected, one
# "<run-id><TAB><where to>" line per run.
function Get-HvrtCollectedRuns([string]$Disk) {
    $file = "$Disk.collected"
    if (-not (Test-Path $file)) { return @() }
    @(Get-Content -Path $file | Where-Object { $_ } | ForEach-Object { ($_ -split "`t")[0] })
}

function Add-HvrtCollectedRun([string]$Disk, [string]$RunId, [string]$To) {
    if ($RunId -notin @(Get-HvrtCollectedRuns $Disk)) {
        Add-Content -Path "$Disk.collected" -Value "$RunId`t$To"
    }
}

# The runs on a disk that Get-HvrtResults.ps1 has not copied out yet.
function Get-HvrtUncollectedRuns([string]$Disk) {
    $collected = @(Get-HvrtCollectedRuns $Disk)
    @(Get-HvrtDiskRuns $Disk | Where-Object { $_ -notin $collected })
}

# Set "key = value" lines in bench.conf (replacing the key's line, or appending it), keeping
# the file's line endings and writing it without a byte-order mark. Values are taken
# literally: a "$" in one is no regex substitution.
function Set-HvrtConfig([string]$Root, [hashtable]$Values) {
    $file = Join-Path $Root 'bench.conf'
    $text = if (Test-Path $file) { [IO.File]::ReadAllText($file) } else { '' }
    $eol = if ($text.Contains("`r`n")) { "`r`n" } else { "`n" }
    # A test's length is a count or a duration: setting one comments out the other.
    $alternatives = @{
        'clock_tick.samples' = 'clock_tick.duration'
        'clock_tick.duration' = 'clock_tick.samples'
        'thread_switch.switches' = 'thread_switch.duration'
        'thread_switch.duration' = 'thread_switch.switches'
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
    [IO.File]::WriteAllText($file, $text, (New-Object Text.UTF8Encoding $false))
}

# Wait until a VM is off; returns $false on timeout.
function Wait-HvrtVmOff([string]$Name, [TimeSpan]$Timeout) {
    $deadline = (Get-Date) + $Timeout
    while ((Get-VM -Name $Name).State -ne 'Off') {
        if ((Get-Date) -gt $deadline) { return $false }
        Start-Sleep -Seconds 15
    }
    return $true
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
    $cpus = @(Get-CimInstance -ClassName Win32_Processor)
    $cores = ($cpus | Measure-Object -Property NumberOfCores -Sum).Sum
    $threads = ($cpus | Measure-Object -Property NumberOfLogicalProcessors -Sum).Sum
    $hv = [ordered]@{}
    foreach ($exe in 'vmms.exe', 'hvix64.exe', 'hvax64.exe') {
        $f = Join-Path $env:windir "System32\$exe"
        if (Test-Path $f) { $hv[$exe] = (Get-Item $f).VersionInfo.ProductVersion }
    }
    try {
        $hv['default VM configuration version'] = [string](Get-VMHostSupportedVersion -Default).Version
    } catch {
        $hv['default VM configuration version'] = "unknown: $($_.Exception.Message)"
    }
    [ordered]@{
        Computer = $env:COMPUTERNAME
        Windows = ((Get-HvrtProperty $os 'ProductName'), (Get-HvrtProperty $os 'DisplayVersion') |
            Where-Object { $_ }) -join ' '
        WindowsBuild = "$(Get-HvrtProperty $os 'CurrentBuild').$(Get-HvrtProperty $os 'UBR')"
        HyperV = $hv
        Processor = @($cpus | ForEach-Object { $_.Name.Trim() } | Select-Object -Unique) -join '; '
        Sockets = $cpus.Count
        Cores = $cores
        LogicalProcessors = (Get-VMHost).LogicalProcessorCount
        HyperThreading = ($threads -gt $cores)
        Scheduler = Get-HvrtSchedulerType
    }
}

# A VM's settings as Hyper-V reports them now.
function Get-HvrtVmRecord([string]$Name) {
    $vm = Get-VM -Name $Name
    $cpu = Get-VMProcessor -VMName $Name
    $mem = Get-VMMemory -VMName $Name
    [ordered]@{
        Name = $Name
        State = [string]$vm.State
        Generation = $vm.Generation
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
        LegacyNetworkAdapter = @(Get-VMNetworkAdapter -VMName $Name | ForEach-Object IsLegacy)
        Disks = @(Get-VMHardDiskDrive -VMName $Name | ForEach-Object Path)
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

# Write an object as JSON (UTF-8 without a byte-order mark).
function Write-HvrtJson([string]$Path, $Object) {
    $json = $Object | ConvertTo-Json -Depth 8
    [IO.File]::WriteAllText($Path, $json + "`n", (New-Object Text.UTF8Encoding $false))
}
