#Requires -RunAsAdministrator
<#
.SYNOPSIS
Show a VM's serial console (COM1 on \\.\pipe\<vm name>) until the VM closes it, or Ctrl+C.

.DESCRIPTION
The appliance prints its progress there: the plan, each test's start and summary, where the
results went, and why it failed if it did. Connect before starting the VM to see the boot too.
Waits up to -ConnectSeconds for the pipe (Hyper-V makes it when the VM starts).

.EXAMPLE
.\Watch-HvrtConsole.ps1 -VmName hvrt-s1-enlightened-test
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$VmName,
    [ValidateRange(1, 86400)][int]$ConnectSeconds = 600
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$pipe = New-Object IO.Pipes.NamedPipeClientStream('.', $VmName, [IO.Pipes.PipeDirection]::InOut)
try {
    Write-Host "connecting to \\.\pipe\$VmName (the VM's COM1) ..."
    # Short waits, so that Ctrl+C (which PowerShell acts on between statements) ends it.
    $deadline = (Get-Date).AddSeconds($ConnectSeconds)
    while (-not $pipe.IsConnected) {
        try {
            $pipe.Connect(500)
        } catch [TimeoutException] {
            if ((Get-Date) -gt $deadline) {
                throw "No \\.\pipe\$VmName after $ConnectSeconds s: is $VmName running, with COM1 on that pipe (Get-VMComPort $VmName)?"
            }
        }
    }
    $reader = New-Object IO.StreamReader($pipe, [Text.Encoding]::UTF8)
    while ($true) {
        $read = $reader.ReadLineAsync()
        while (-not $read.Wait(200)) { }
        if ($null -eq $read.Result) { break }
        Write-Host $read.Result
    }
} finally {
    # Closing the pipe also ends a read still waiting.
    $pipe.Dispose()
}
