#!/bin/bash
# The "libvirtd-kill" case of vm_migration_test.sh (see there).
exec "$(dirname "$0")/vm_migration_test.sh" libvirtd-kill "$@"
