#Requires -RunAsAdministrator
#Requires -Modules Hyper-V, Storage
<#
.SYNOPSIS
Run one of the paper's scenarios from start to results, for one Hyper-V generation after the
other: New-HvrtScenario.ps1 -Start, Get-HvrtResults.ps1, Remove-HvrtScenario.ps1 -DeleteDisks.

.DESCRIPTION
One command for a comparison the paper did not make, Generation 1 against Generation 2 of the
enlightened image: the generations run one after the other, never at the same time (each
scenario's test VM must have the host to itself). Every check of New-HvrtScenario.ps1 runs for
every generation before the first VM is made. The results land in
<Destination>\s<scenario>-<variant>\ (Generation 1) and ...-gen2\ (Generation 2);
rust-bench report puts them side by side (docs/hyper-v.md).

.EXAMPLE
.\Invoke-HvrtScenario.ps1 -Scenario 1 -Vhd C:\hvrt\hvrt-enlightened.vhdx -Variant enlightened -Generation 1, 2 -Destination C:\hvrt\results
rust-bench report C:\hvrt\results\s1-enlightened C:\hvrt\results\s1-enlightened-gen2 --format html --out s1-generations.html
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][ValidateRange(1, 7)][int]$Scenario,
    # The image; Generation 2 takes the VHDX.
    [Parameter(Mandatory)][string]$Vhd,
    # A directory of board\hyperv with a variant.conf: enlightened or emulated.
    [Parameter(Mandatory)][string]$Variant,
    # The generations to run, in this order.
    [ValidateSet(1, 2)][int[]]$Generation = @(1, 2),
    [Parameter(Mandatory)][string]$Destination,
    [string]$VmRoot = '',
    [string]$Prefix = 'hvrt',
    [string]$SwitchName = '',
    [string]$BenchConf = '',
    [hashtable]$TestConfig = @{},
    [hashtable]$LoadConfig = @{},
    [string]$CpuGroupId = '',
    [string]$CpuGroupsExe = 'CpuGroups.exe',
    [ValidateRange(1, 10080)][int]$TimeoutMinutes = 240,
    [switch]$Force
)

. (Join-Path $PSScriptRoot 'HvrtCommon.ps1')

# Refuse a generation the variant cannot run before anything runs.
$variantInfo = Get-HvrtVariant $Variant
foreach ($g in $Generation) { Assert-HvrtGeneration $variantInfo $g }

$Vhd = Resolve-HvrtPath $Vhd
$Destination = Resolve-HvrtPath $Destination
$common = @{
    Scenario = $Scenario; Vhd = $Vhd; Variant = $Variant; Prefix = $Prefix
    SwitchName = $SwitchName; TestConfig = $TestConfig; LoadConfig = $LoadConfig
    CpuGroupsExe = $CpuGroupsExe
}
if ($VmRoot) { $common.VmRoot = Resolve-HvrtPath $VmRoot }
if ($BenchConf) { $common.BenchConf = Resolve-HvrtPath $BenchConf }
if ($CpuGroupId) { $common.CpuGroupId = $CpuGroupId }
if ($Force) { $common.Force = $true }

# Every generation's checks first (-WhatIf: checks only, nothing made).
foreach ($g in $Generation) {
    & (Join-Path $PSScriptRoot 'New-HvrtScenario.ps1') @common -Generation $g -WhatIf
}

$done = @()
foreach ($g in $Generation) {
    Write-Host "=== scenario $Scenario, $Variant, Generation $g ==="
    & (Join-Path $PSScriptRoot 'New-HvrtScenario.ps1') @common -Generation $g -Start
    & (Join-Path $PSScriptRoot 'Get-HvrtResults.ps1') -Scenario $Scenario -Variant $Variant -Generation $g `
        -Prefix $Prefix -Destination $Destination -TimeoutMinutes $TimeoutMinutes
    & (Join-Path $PSScriptRoot 'Remove-HvrtScenario.ps1') -Scenario $Scenario -Variant $Variant -Generation $g `
        -Prefix $Prefix -DeleteDisks -Confirm:$false
    $done += Join-Path $Destination (Get-HvrtScenarioTag $Scenario $Variant $g)
}
Write-Host "side by side: rust-bench report $($done -join ' ') --format html --out s$Scenario-$Variant-generations.html"
