#Requires -RunAsAdministrator
#Requires -Modules Hyper-V, Storage
<#
.SYNOPSIS
Wait for a scenario's test VM to power off, stop its load VMs, and copy the results out of the
test VM's disk (mounted read-only).

.DESCRIPTION
While the test VM runs, the host is left alone for what remains of the test plan's expected
length (New-HvrtScenario.ps1 records it; the VM's uptime says how much has passed), then
Hyper-V is asked once a minute whether the VM is off: the root partition's work can land on
the test VM's processor. hyperv.json records how it waited.

Copies results\<run-id>\ directories from the disk's HVRT volume into
<Destination>\s<scenario>-<variant>\ (s<scenario>-<variant>-gen2\ for Generation 2), next to
runs copied before; a run directory that exists
already is left as it is. Into each run directory it copies it writes hyperv.json: the host
(Windows, Hyper-V, processor, logical processors, Hyper-Threading, scheduler type) and the
settings of the scenario's VMs as Hyper-V reports them at collection (the load VMs still
running), with the record New-HvrtScenario.ps1 made when it created them. Notes each run in
<disk>.collected, so that New-HvrtScenario.ps1 may replace the disk. Then:
rust-bench report <Destination>\s1-enlightened ... for the tables.

.EXAMPLE
.\Get-HvrtResults.ps1 -Scenario 3 -Variant emulated -Destination C:\hvrt\results

.EXAMPLE
.\Get-HvrtResults.ps1 -Scenario 1 -Variant enlightened -Generation 2 -Destination C:\hvrt\results
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][ValidateRange(1, 7)][int]$Scenario,
    # A directory of board\hyperv with a variant.conf: enlightened or emulated.
    [Parameter(Mandatory)][string]$Variant,
    [ValidateSet(1, 2)][int]$Generation = 1,
    [Parameter(Mandatory)][string]$Destination,
    [string]$Prefix = 'hvrt',
    # Minutes to wait for the test VM to switch off: the default plan takes a bit over an
    # hour; the appliance's own timeout is 3 h.
    [ValidateRange(1, 10080)][int]$TimeoutMinutes = 240,
    # Leave the load VMs running (for another test VM run).
    [switch]$KeepLoads
)

. (Join-Path $PSScriptRoot 'HvrtCommon.ps1')

$null = Get-HvrtVariant $Variant
$Destination = Resolve-HvrtPath $Destination
$test = Get-HvrtVmName $Prefix $Scenario $Variant $Generation 'test'
if (-not (Hyper-V\Get-VM -Name $test -ErrorAction SilentlyContinue)) {
    throw "No VM named ${test}: create it with New-HvrtScenario.ps1 -Scenario $Scenario -Variant $Variant -Generation $Generation."
}
$disk = (Hyper-V\Get-VMHardDiskDrive -VMName $test | Select-Object -First 1).Path
$recordPath = Get-HvrtRecordPath (Split-Path -Parent $disk) $Prefix $Scenario $Variant $Generation
$created = if (Test-Path -LiteralPath $recordPath) {
    Read-HvrtJson $recordPath
} else {
    Write-Warning "no $recordPath (made by New-HvrtScenario.ps1): hyperv.json holds what is read now only"
    $null
}
$expected = 0
if ($created -and (Get-HvrtProperty $created 'TestPlan')) {
    $expected = [int](Get-HvrtProperty $created.TestPlan 'ExpectedSeconds')
}
Write-Host "waiting for $test to power off (up to $TimeoutMinutes min); console: \\.\pipe\$test"
$waited = Wait-HvrtVmOff -Name $test -ExpectedSeconds $expected -TimeoutMinutes $TimeoutMinutes
if (-not $waited.Off) {
    throw "$test is still running after $TimeoutMinutes min; look at its console, then Stop-VM -TurnOff and run this again."
}

# The VMs' settings while the loads still run, and the host's.
$vmRecords = @(Hyper-V\Get-VM -Name (Get-HvrtVmName $Prefix $Scenario $Variant $Generation '*') |
    Sort-Object Name | ForEach-Object { Get-HvrtVmRecord $_.Name })
$hostRecord = Get-HvrtHostRecord

if (-not $KeepLoads) {
    Hyper-V\Get-VM -Name (Get-HvrtVmName $Prefix $Scenario $Variant $Generation 'load*') -ErrorAction SilentlyContinue |
        Where-Object State -ne 'Off' |
        ForEach-Object { Hyper-V\Stop-VM -VM $_ -TurnOff -Force; Write-Host "stopped $($_.Name)" }
}

$target = Join-Path $Destination (Get-HvrtScenarioTag $Scenario $Variant $Generation)
New-Item -ItemType Directory -Force -Path $target | Out-Null
$root = Mount-HvrtVolume -Path $disk -ReadOnly
try {
    $marker = Join-Path $root 'variant.txt'
    if (-not (Test-Path -LiteralPath $marker)) {
        throw "$disk has no variant.txt, so nothing tells that it is the $Variant image: copy its results by hand (docs/hyper-v.md)."
    }
    $found = ([IO.File]::ReadAllText($marker)).Trim()
    if ($found -ne $Variant) {
        throw "$disk is the $found image, not $Variant (its variant.txt): collect it with -Variant $found."
    }
    $runs = @(Get-ChildItem -Directory -LiteralPath (Join-Path $root 'results') -ErrorAction SilentlyContinue)
    if ($runs.Count -eq 0) { throw "$disk has no results\<run-id>\ directory: did the VM run the test role?" }
    foreach ($run in $runs) {
        $to = Join-Path $target $run.Name
        if (Test-Path -LiteralPath $to) {
            Add-HvrtCollectedRun $disk $run.Name $to
            Write-Host "kept $to (copied before)"
            continue
        }
        Copy-Item -Recurse -LiteralPath $run.FullName -Destination $to
        Write-HvrtJson (Join-Path $to 'hyperv.json') ([ordered]@{
            Scenario = $Scenario
            Variant = $Variant
            Generation = $Generation
            Disk = $disk
            Waited = $waited
            Collected = (Get-Date).ToString('o')
            Host = $hostRecord
            Vms = $vmRecords
            Created = $created
        })
        Add-HvrtCollectedRun $disk $run.Name $to
        $runJson = Join-Path $to 'run.json'
        $status = if (Test-Path -LiteralPath $runJson) {
            (Read-HvrtJson $runJson).status
        } else {
            'no run.json'
        }
        Write-Host "copied $to ($status)"
    }
} finally {
    Hyper-V\Dismount-VHD -Path $disk
}
Write-Host "open $target\<run-id>\report.html, or: rust-bench report $Destination"
