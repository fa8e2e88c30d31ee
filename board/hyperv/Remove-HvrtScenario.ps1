<#
.SYNOPSIS
Remove the VMs of a scenario made by New-HvrtScenario.ps1, and (with -DeleteDisks) their disk
copies. Copy the results out first (Get-HvrtResults.ps1).

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
foreach ($vm in $vms) {
    if (-not $PSCmdlet.ShouldProcess($vm.Name, 'remove VM')) { continue }
    $disks = @(Get-VMHardDiskDrive -VM $vm | ForEach-Object Path)
    if ($vm.State -ne 'Off') { Stop-VM -VM $vm -TurnOff -Force }
    Remove-VM -VM $vm -Force
    Write-Host "removed $($vm.Name)"
    if ($DeleteDisks) {
        foreach ($d in $disks) { Remove-Item -Path $d; Write-Host "deleted $d" }
    }
}
