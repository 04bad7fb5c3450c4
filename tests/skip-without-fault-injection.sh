#!/bin/sh
# Registered in place of a test that crashes the mover through VAULTSHIM_FAULT when the build
# has no such hook (meson's fault_injection option is off by default; tests/run turns it on).
echo "needs a build with -Dfault_injection=true: skipped"
exit 77
