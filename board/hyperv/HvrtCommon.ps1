# Shared by the hvrt Hyper-V scripts (dot-sourced). Needs the Hyper-V and Storage modules
# (Windows 10/11 Pro or Windows Server with the Hyper-V role) and an elevated PowerShell.

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

# The paper's seven scenarios. HostCpus: 'one' = the host must be limited to one logical
# processor (a host setting, see docs/hyper-v.md); 'all' = every processor enabled.
# Loads: the roles of the load VMs started beside the test VM ("UTVM").
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

# Mount a VHD/VHDX and return the root of its HVRT volume ("E:\"). The caller dismounts.
function Mount-HvrtVolume([string]$Path, [switch]$ReadOnly) {
    $disk = if ($ReadOnly) {
        Mount-VHD -Path $Path -ReadOnly -Passthru | Get-Disk
    } else {
        Mount-VHD -Path $Path -Passthru | Get-Disk
    }
    # Windows assigns drive letters a moment after the mount; ask again for a few seconds.
    for ($i = 0; $i -lt 20; $i++) {
        $part = $disk | Get-Partition |
            Where-Object { ($_ | Get-Volume -ErrorAction SilentlyContinue).FileSystemLabel -eq 'HVRT' } |
            Select-Object -First 1
        if ($part -and $part.DriveLetter -and $part.DriveLetter -ne [char]0) {
            return "$($part.DriveLetter):\"
        }
        if ($part -and $i -eq 5) {
            $part | Add-PartitionAccessPath -AssignDriveLetter -ErrorAction SilentlyContinue
        }
        Start-Sleep -Milliseconds 500
    }
    Dismount-VHD -Path $Path
    throw "$Path has no FAT volume labelled HVRT: is it an hvrt image?"
}

# Set "key = value" lines in bench.conf (replacing the key's line, or appending it), keeping
# the file's line endings and writing it without a byte-order mark.
function Set-HvrtConfig([string]$Root, [hashtable]$Values) {
    $file = Join-Path $Root 'bench.conf'
    $text = if (Test-Path $file) { [IO.File]::ReadAllText($file) } else { '' }
    $eol = if ($text.Contains("`r`n")) { "`r`n" } else { "`n" }
    foreach ($key in $Values.Keys) {
        $line = "$key = $($Values[$key])"
        $pattern = '(?m)^[ \t]*' + [regex]::Escape($key) + '[ \t]*=.*?(?=\r?$)'
        if ([regex]::IsMatch($text, $pattern)) {
            $text = [regex]::Replace($text, $pattern, $line)
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
