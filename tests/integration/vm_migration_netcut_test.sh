#!/bin/bash
# The "netcut" case of vm_migration_test.sh (see there).
exec "$(dirname "$0")/vm_migration_test.sh" netcut "$@"
