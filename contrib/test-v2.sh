#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the root integration suites that exercise cgroups, namespaces and exec on a pure cgroup v2
# host: Debian's own kernel under qemu, through the workspace's ../shared/tools/vm-run (this
# machine itself is hybrid). Writes TAP to build-ci/v2/results.tap for contrib/test.sh to count.
#   contrib/test-v2.sh [BUILDDIR]
# Exits 2 when vm-run is not there (outside this workspace), after saying so.
set -uo pipefail
cd "$(dirname "$0")/.."
vmrun=${VM_RUN:-$(dirname "$PWD")/shared/tools/vm-run}
build=${1:-build-ci/default}
out=build-ci/v2
if [ ! -x "$vmrun" ]; then
        echo "test-v2: $vmrun not found: the pure cgroup v2 suites were NOT run" >&2
        exit 2
fi
rm -rf "$out" && mkdir -p "$out"
cp "$build/supervisor/supd" "$build/supervisor/supctl" "$build/tests/helpers/probe" "$out/"
# Timing-sensitive checks (the crash loop's CPU share) mean nothing under emulation, so 010 is
# left to the native run; these suites are what differs between cgroup layouts and kernels.
cat > "$out/run.sh" <<'VM'
#!/bin/bash
cd "$(dirname "$0")/../.."
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for n in stdin:0 stdout:1 stderr:2; do [ -e "/dev/${n%:*}" ] || ln -s "/proc/self/fd/${n#*:}" "/dev/${n%:*}"; done
mkdir -p /run/netns
export SUPD=$PWD/build-ci/v2/supd SUPCTL=$PWD/build-ci/v2/supctl PROBE=$PWD/build-ci/v2/probe
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || { echo "not ok 1 the VM has no pure cgroup v2"; exit 1; }
for t in 040-cgroup 060-isolation 070-exec; do
        echo "# $t on $(uname -r), pure cgroup v2"
        timeout 900 bats --tap "tests/integration/$t.bats"
done > build-ci/v2/results.tap 2>&1
VM
chmod +x "$out/run.sh"
"$vmrun" -m 4G -t 900 -- "$out/run.sh"
rc=$?
grep -v "^# supd:" "$out/results.tap" 2>/dev/null | grep -E "^(not ok|ok|#)" | grep -vE "^ok" || true
exit $rc
