#!/bin/sh
# Run by busybox acpid for the ACPI power button (/etc/acpi/PWRF/00000080):
# asks PID 1 to shut down cleanly (it traps SIGUSR2 and powers off).
echo "VMKIT-POWER-BUTTON" >/dev/console
kill -USR2 1
