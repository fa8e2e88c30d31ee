<#
.SYNOPSIS
Wait for a scenario's test VM to power off, stop its load VMs, and copy the results out of the
test VM's disk (mounted read-only).

.DESCRIPTION
Copies results\<run-id>\ directories from the disk's HVRT volume into
<Destination>\s<scenario>-<variant>\, next to runs copied before; a run directory that exists
already is left as it is. Into each run directory it copies it writes hyperv.json: the host
(Windows, Hyper-V, processor, logical processors, Hyper-Threading, scheduler type) and the
settings of the scenario's VMs as Hyper-V reports them at collection (the load VMs still
running), with the record New-HvrtScenario.ps1 made when it created them. Notes each run in
<disk>.collected, so that New-HvrtScenario.ps1 may replace the disk. Then:
rust-bench report <Destination>\s1-enlightened ... for the tables.

.EXAMPLE
.\Get-HvrtResults.ps1 -Scenario 3 -Variant emulated -Destination C:\hvrt\results
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][ValidateRange(1, 7)][int]$Scenario,
    [Parameter(Mandatory)][ValidateSet('enlightened', 'emulated')][string]$Variant,
    [Parameter(Mandatory)][string]$Destination,
    [string]$Prefix = 'hvrt',
    # The default plan takes a bit over an hour; the appliance's own timeout is 3 h.
    [TimeSpan]$Timeout = (New-TimeSpan -Hours 4),
    # Leave the load VMs running (for another test VM run).
    [switch]$KeepLoads
)

. (Join-Path $PSScriptRoot 'HvrtCommon.ps1')

$test = Get-HvrtVmName $Prefix $Scenario $Variant 'test'
if (-not (Get-VM -Name $test -ErrorAction SilentlyContinue)) {
    throw "No VM named ${test}: create it with New-HvrtScenario.ps1 -Scenario $Scenario -Variant $Variant."
}
Write-Host "waiting for $test to power off (up to $Timeout); console: \\.\pipe\$test"
if (-not (Wait-HvrtVmOff -Name $test -Timeout $Timeout)) {
    throw "$test is still running after $Timeout; look at its console, then Stop-VM -TurnOff and run this again."
}

# The VMs' settings while the loads still run, and the host's.
$vmRecords = @(Get-VM -Name (Get-HvrtVmName $Prefix $Scenario $Variant '*') |
    Sort-Object Name | ForEach-Object { Get-HvrtVmRecord $_.Name })
$hostRecord = Get-HvrtHostRecord

if (-not $KeepLoads) {
    Get-VM -Name (Get-HvrtVmName $Prefix $Scenario $Variant 'load*') -ErrorAction SilentlyContinue |
        Where-Object State -ne 'Off' |
        ForEach-Object { Stop-VM -VM $_ -TurnOff -Force; Write-Host "stopped $($_.Name)" }
}

$disk = (Get-VMHardDiskDrive -VMName $test | Select-Object -First 1).Path
$target = Join-Path $Destination "s$Scenario-$Variant"
New-Item -ItemType Directory -Force -Path $target | Out-Null
$recordPath = Get-HvrtRecordPath (Split-Path -Parent $disk) $Prefix $Scenario $Variant
$created = if (Test-Path $recordPath) {
    Get-Content -Raw -Path $recordPath | ConvertFrom-Json
} else {
    Write-Warning "no $recordPath (made by New-HvrtScenario.ps1): hyperv.json holds what is read now only"
    $null
}
$root = Mount-HvrtVolume -Path $disk -ReadOnly
try {
    $marker = Join-Path $root 'variant.txt'
    if (-not (Test-Path $marker)) {
        throw "$disk has no variant.txt, so nothing tells that it is the $Variant image: copy its results by hand (docs/hyper-v.md)."
    }
    $found = ([IO.File]::ReadAllText($marker)).Trim()
    if ($found -ne $Variant) {
        throw "$disk is the $found image, not $Variant (its variant.txt): collect it with -Variant $found."
    }
    $runs = @(Get-ChildItem -Directory -Path (Join-Path $root 'results') -ErrorAction SilentlyContinue)
    if ($runs.Count -eq 0) { throw "$disk has no results\<run-id>\ directory: did the VM run the test role?" }
    foreach ($run in $runs) {
        $to = Join-Path $target $run.Name
        if (Test-Path $to) {
            Add-HvrtCollectedRun $disk $run.Name $to
            Write-Host "kept $to (copied before)"
            continue
        }
        Copy-Item -Recurse -Path $run.FullName -Destination $to
        Write-HvrtJson (Join-Path $to 'hyperv.json') ([ordered]@{
            Scenario = $Scenario
            Variant = $Variant
            Disk = $disk
            Collected = (Get-Date).ToString('o')
            Host = $hostRecord
            Vms = $vmRecords
            Created = $created
        })
        Add-HvrtCollectedRun $disk $run.Name $to
        $runJson = Join-Path $to 'run.json'
        $status = if (Test-Path $runJson) {
            (Get-Content -Raw $runJson | ConvertFrom-Json).status
        } else {
            'no run.json'
        }
        Write-Host "copied $to ($status)"
    }
} finally {
    Dismount-VHD -Path $disk
}
Write-Host "open $target\<run-id>\report.html, or: rust-bench report $Destination"
