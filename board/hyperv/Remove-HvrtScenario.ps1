<#
.SYNOPSIS
Remove the VMs of a scenario made by New-HvrtScenario.ps1, and (with -DeleteDisks) their disk
copies. Copy the results out first (Get-HvrtResults.ps1): -DeleteDisks refuses to delete a test
VM disk holding runs it has not collected.

.EXAMPLE
.\Remove-HvrtScenario.ps1 -Scenario 5 -Variant emulated -DeleteDisks
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)][ValidateRange(1, 7)][int]$Scenario,
    [Parameter(Mandatory)][ValidateSet('enlightened', 'emulated')][string]$Variant,
    [string]$Prefix = 'hvrt',
    [switch]$DeleteDisks
)

. (Join-Path $PSScriptRoot 'HvrtCommon.ps1')

$vms = @(Get-VM -Name (Get-HvrtVmName $Prefix $Scenario $Variant '*') -ErrorAction SilentlyContinue)
if ($vms.Count -eq 0) { Write-Host "no VMs of scenario $Scenario ($Variant)"; return }

# The test VM's disk must not go with results that were never copied out.
$test = Get-HvrtVmName $Prefix $Scenario $Variant 'test'
if ($DeleteDisks -and ($testVm = $vms | Where-Object Name -eq $test)) {
    if ($testVm.State -ne 'Off') { Stop-VM -VM $testVm -TurnOff -Force }
    foreach ($d in @(Get-VMHardDiskDrive -VM $testVm | ForEach-Object Path)) {
        $pending = @(Get-HvrtUncollectedRuns $d)
        if ($pending.Count -gt 0) {
            throw ("$d holds results not collected yet ($($pending -join ', ')): run " +
                "Get-HvrtResults.ps1 -Scenario $Scenario -Variant $Variant -Destination <dir> " +
                "first, then this again.")
        }
    }
}

foreach ($vm in $vms) {
    if (-not $PSCmdlet.ShouldProcess($vm.Name, 'remove VM')) { continue }
    $disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object Path)
    if ((Get-VM -Name $vm.Name).State -ne 'Off') { Stop-VM -VM $vm -TurnOff -Force }
    Remove-VM -VM $vm -Force
    Write-Host "removed $($vm.Name)"
    if ($DeleteDisks) {
        foreach ($d in $disks) {
            Remove-Item -Path $d
            Remove-Item -Path "$d.collected" -ErrorAction SilentlyContinue
            Write-Host "deleted $d"
        }
    }
}
