<#
.SYNOPSIS
Show a VM's serial console (COM1 on \\.\pipe\<vm name>) until the VM closes it.

.DESCRIPTION
The appliance prints its progress there: the plan, each test's start and summary, where the
results went, and why it failed if it did. Connect before starting the VM to see the boot too.

.EXAMPLE
.\Watch-HvrtConsole.ps1 -VmName hvrt-s1-enlightened-test
#>
[CmdletBinding()]
param([Parameter(Mandatory)][string]$VmName)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$pipe = New-Object IO.Pipes.NamedPipeClientStream('.', $VmName, [IO.Pipes.PipeDirection]::InOut)
Write-Host "connecting to \\.\pipe\$VmName (the VM's COM1) ..."
$pipe.Connect(600000)
$reader = New-Object IO.StreamReader($pipe, [Text.Encoding]::UTF8)
try {
    while ($null -ne ($line = $reader.ReadLine())) { Write-Host $line }
} finally {
    $reader.Dispose()
}
