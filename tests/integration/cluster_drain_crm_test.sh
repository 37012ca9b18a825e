#!/bin/bash
# The crm case of cluster_drain_test.sh (see there): drover.crm, crm node standby / online.
exec "$(dirname "$0")/cluster_drain_test.sh" crm "$@"
