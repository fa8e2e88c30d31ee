#Requires -RunAsAdministrator
#Requires -Modules Hyper-V, Storage
<#
.SYNOPSIS
Remove the VMs of a scenario made by New-HvrtScenario.ps1, and (with -DeleteDisks) their disk
copies. Copy the results out first (Get-HvrtResults.ps1): -DeleteDisks refuses to delete a test
VM disk holding runs it has not collected.

.DESCRIPTION
Refuses while the scenario's test VM is running (it may be measuring: let it switch itself
off, or collect with Get-HvrtResults.ps1, which waits for that); -Force turns it off first.
Load VMs are turned off as they are removed.

.EXAMPLE
.\Remove-HvrtScenario.ps1 -Scenario 5 -Variant emulated -DeleteDisks

.EXAMPLE
.\Remove-HvrtScenario.ps1 -Scenario 1 -Variant enlightened -Generation 2 -DeleteDisks
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)][ValidateRange(1, 7)][int]$Scenario,
    # A directory of board\hyperv with a variant.conf: enlightened or emulated.
    [Parameter(Mandatory)][string]$Variant,
    [ValidateSet(1, 2)][int]$Generation = 1,
    [string]$Prefix = 'hvrt',
    [switch]$DeleteDisks,
    # Turn a running test VM off (its run is then recorded as interrupted).
    [switch]$Force
)

. (Join-Path $PSScriptRoot 'HvrtCommon.ps1')

$null = Get-HvrtVariant $Variant
$vms = @(Hyper-V\Get-VM -Name (Get-HvrtVmName $Prefix $Scenario $Variant $Generation '*') -ErrorAction SilentlyContinue)
if ($vms.Count -eq 0) { Write-Host "no VMs of scenario $Scenario ($Variant, Generation $Generation)"; return }

$test = Get-HvrtVmName $Prefix $Scenario $Variant $Generation 'test'
$testVm = $vms | Where-Object Name -eq $test
if ($testVm -and $testVm.State -ne 'Off') {
    if (-not $Force) {
        throw ("$test is $($testVm.State): it may be measuring. Let it switch itself off (Get-HvrtResults.ps1 " +
            "-Scenario $Scenario -Variant $Variant -Generation $Generation -Destination <dir> waits for that and " +
            "collects the results), or pass -Force to turn it off now.")
    }
    if ($PSCmdlet.ShouldProcess($test, 'turn off (-Force)')) { Hyper-V\Stop-VM -VM $testVm -TurnOff -Force }
}

# The test VM's disk must not go with results that were never copied out.
if ($DeleteDisks -and $testVm) {
    foreach ($d in @(Hyper-V\Get-VMHardDiskDrive -VM $testVm | ForEach-Object Path)) {
        $pending = @(Get-HvrtUncollectedRuns $d)
        if ($pending.Count -gt 0) {
            throw ("$d holds results not collected yet ($($pending -join ', ')): run " +
                "Get-HvrtResults.ps1 -Scenario $Scenario -Variant $Variant -Generation $Generation " +
                "-Destination <dir> first, then this again.")
        }
    }
}

foreach ($vm in $vms) {
    if (-not $PSCmdlet.ShouldProcess($vm.Name, 'remove VM')) { continue }
    $disks = @(Hyper-V\Get-VMHardDiskDrive -VM $vm | ForEach-Object Path)
    if ((Hyper-V\Get-VM -Name $vm.Name).State -ne 'Off') { Hyper-V\Stop-VM -VM $vm -TurnOff -Force }
    Hyper-V\Remove-VM -VM $vm -Force
    Write-Host "removed $($vm.Name)"
    if ($DeleteDisks) {
        foreach ($d in $disks) {
            Remove-Item -LiteralPath $d
            Remove-Item -LiteralPath "$d.collected" -ErrorAction SilentlyContinue
            Write-Host "deleted $d"
        }
    }
}
