#!/usr/bin/env bash
# Runs the Kubernetes manifests, as kustomize renders them (the smoke overlay: the base with a short synthetic job), under
# `podman kube play`: the ConfigMap, the claims and the Secrets this README creates, the coordinator's Job and two pods of
# the workers' Job, with the pods' own security contexts (user 10001, read-only root, /tmp an emptyDir), mounts and
# variables. The coordinator's pod must end 0 with its weights on the runs claim,
# bit-identical to the embedded run of the same job, and both workers' pods must end 0.
#
# What podman does not do, and what stands in for it (deploy/README.md): it runs one pod per Job (no completions,
# parallelism, successPolicy, podFailurePolicy or backoffLimit), so the workers' Job is played once per index; it gives
# pods no Service DNS (no hostname.subdomain record), so the coordinator's pod gets a fixed address on the test's network
# and the workers a hostAliases entry for distclip-coordinator.distclip-coordinator; it does not fill status.podIP from
# the downward API, so each worker's pod gets a fixed address too, written into the variable; it ignores fsGroup, so
# the certificates' Secret is mounted with mode 0444 instead of 0400; it makes an emptyDir a volume shared by every pod
# that names it alike, so each pod's /tmp volume is named after the pod; it ignores readinessProbe, and runs the httpGet
# liveness probe as `curl` inside the container, which the image lacks (unhealthy, with no action: nothing follows).
# Run by deploy/test-containers.sh; needs root, podman 5 and runc, the built image, and kubectl.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
image=${IMAGE:-distclip:latest}
export PODMAN_IGNORE_CGROUPSV1_WARNING=1
work=$(mktemp -d)
net=distclip-kube-$$
subnet=10.89.$((RANDOM % 200 + 20))
coordinator_ip=$subnet.10
# kube play takes no runtime, cgroup manager or ulimit flags: a private containers.conf gives them.
cat > "$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
export CONTAINERS_CONF="$work/containers.conf"
podman=(podman)
played=()
# kube play makes each claim, ConfigMap, Secret and emptyDir volume a named volume of that name, kept after the pods.
volumes=(distclip-runs distclip-data distclip-job distclip-join-secret distclip-tls tmp-coordinator tmp-worker-0 tmp-worker-1)
remove_volumes() { "${podman[@]}" volume rm -f "${volumes[@]}" >/dev/null 2>&1 || true; }
cleanup() {
  for ((i = ${#played[@]} - 1; i >= 0; i--)); do "${podman[@]}" kube down --force "${played[i]}" >/dev/null 2>&1 || true; done
  remove_volumes
  "${podman[@]}" network rm -f "$net" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "kube-play: FAILED: $*" >&2; exit 1; }
check() { echo "kube-play: $*"; }

# The rendered manifests, one file per document (a Job, the rest).
kubectl kustomize "$root/deploy/k8s/overlays/smoke" > "$work/rendered.yaml"
python3 - "$work" <<'PY'
import sys, re
work = sys.argv[1]
docs = [d for d in open(f"{work}/rendered.yaml").read().split("\n---\n") if d.strip()]
def kind_name(d):
    return re.search(r"^kind: (\S+)", d, re.M).group(1), re.search(r"^  name: (\S+)", d, re.M).group(1)
# kube play keeps claims (as volumes) and Secrets between plays, but a ConfigMap only for the play it is in: the job's
# ConfigMap goes with the coordinator's Job. The headless Service is left out: podman has no Service DNS (see above).
claims, config_maps, jobs = [], [], {}
for d in docs:
    kind, name = kind_name(d)
    # podman ignores fsGroup, through which the kubelet makes the certificates' Secret (0400) readable by the pods'
    # group (kubernetes/kubernetes#57923: 0400 becomes 0440, group fsGroup): others' read stands in for it here.
    # podman makes an emptyDir a named volume of the volume's name, which every pod that names it alike then shares (the
    # pods' /tmp: .NET's diagnostic pipes of one pod vanish under another's start): each pod's is named after the pod.
    if kind == "Job": jobs[name] = d.replace("defaultMode: 256", "defaultMode: 292")
    elif kind == "ConfigMap": config_maps.append(d)
    elif kind == "PersistentVolumeClaim": claims.append(d)
open(f"{work}/claims.yaml", "w").write("\n---\n".join(claims))
def own_tmp(job, pod):
    renamed = re.sub(r"(\n\s+)name: tmp\n", rf"\1name: tmp-{pod}\n", job)
    if renamed.count(f"name: tmp-{pod}\n") != 2: sys.exit(f"kube-play: {pod}: expected the tmp volume and its mount")
    return renamed
open(f"{work}/distclip-coordinator.yaml", "w").write("\n---\n".join(config_maps + [own_tmp(jobs["distclip-coordinator"], "coordinator")]))
open(f"{work}/distclip-worker-0.yaml", "w").write(own_tmp(jobs["distclip-worker"], "worker-0"))
open(f"{work}/distclip-worker-1.yaml", "w").write(own_tmp(jobs["distclip-worker"], "worker-1"))
PY

# The Secrets, as deploy/README.md has them made (kubectl create secret generic …), made by the image itself.
mkdir -p "$work/certs" && chown 10001:10001 "$work/certs"
"${podman[@]}" run --rm --no-healthcheck -v "$work/certs:/work" "$image" certs /work/tls >/dev/null
head -c 32 /dev/urandom | base64 > "$work/join-secret"
kubectl create secret generic distclip-join-secret --from-file=secret="$work/join-secret" --dry-run=client -o yaml > "$work/secrets.yaml"
echo "---" >> "$work/secrets.yaml"
kubectl create secret generic distclip-tls --from-file="$work/certs/tls/node/" --dry-run=client -o yaml >> "$work/secrets.yaml"

cd "$work"   # kube play looks for a folder named like the image in the working directory, to build it from
"${podman[@]}" network create --subnet "$subnet.0/24" "$net" >/dev/null
play() {  # file, then kube play's own options
  played+=("$1")
  # The pods, Secrets and volumes have the manifests' fixed names: what a try that was killed left is taken down first.
  "${podman[@]}" kube down --force "$1" >/dev/null 2>&1 || true
  "${podman[@]}" kube play --build=false --network "$net" "${@:2}" "$1" >/dev/null
}
pod_exit() {  # pod name: the exit code of its one container, once it has ended (within 600 s: else it prints nothing)
  local container
  container=$("${podman[@]}" pod inspect -f '{{range .Containers}}{{.Name}}{{"\n"}}{{end}}' "$1" | grep -v -e '-infra$' -e '^$' || true)
  timeout 600 "${podman[@]}" wait "$container" || true
}
pod_logs() { "${podman[@]}" pod logs "$1" 2>&1; }

remove_volumes   # a run folder left by an earlier try would be resumed
play "$work/claims.yaml"
play "$work/secrets.yaml"
play "$work/distclip-coordinator.yaml" --ip "$coordinator_ip"
# One play per index of the workers' Job, each pod at a fixed address on the test's network: podman does not fill
# status.podIP from the downward API, so that address is the variable's value; and the coordinator's name in the pods'
# /etc/hosts (hostAliases), as the headless Service's record would have it.
for index in 0 1; do
  worker_ip=$subnet.$((20 + index))
  python3 - "$work/distclip-worker-$index.yaml" "$index" "$worker_ip" "$coordinator_ip" <<'PY'
import sys
job, index, worker_ip, coordinator_ip = sys.argv[1:]
text = open(job).read()
def replace_once(old, new):
    global text
    if text.count(old) != 1: sys.exit(f"kube-play: the workers' Job no longer has exactly one {old.strip()!r}")
    text = text.replace(old, new)
replace_once("\n  name: distclip-worker\n", f"\n  name: distclip-worker-{index}\n")
replace_once("""          valueFrom:
            fieldRef:
              fieldPath: status.podIP
""", f"""          value: "{worker_ip}"
""")
replace_once("\n      containers:\n", f"""
      hostAliases:
      - ip: "{coordinator_ip}"
        hostnames: [distclip-coordinator.distclip-coordinator]
      containers:
""")
open(job, "w").write(text)
PY
  play "$work/distclip-worker-$index.yaml" --ip "$worker_ip"
done

code=$(pod_exit distclip-coordinator-pod); [ "$code" = 0 ] || { pod_logs distclip-coordinator-pod >&2; fail "the coordinator's pod exited '$code' (nothing: not within 600 s)"; }
for index in 0 1; do
  code=$(pod_exit "distclip-worker-$index-pod"); [ "$code" = 0 ] || { pod_logs "distclip-worker-$index-pod" >&2; fail "worker pod $index exited '$code' (nothing: not within 600 s)"; }
done
grep -q "done: 300 steps" <<< "$(pod_logs distclip-coordinator-pod)" || { pod_logs distclip-coordinator-pod >&2; fail "the coordinator did not take every step"; }
check "the smoke overlay's coordinator Job and two worker pods ran to the end under podman kube play (exit 0 each)"

runs=$("${podman[@]}" volume inspect -f '{{.Mountpoint}}' distclip-runs)
mkdir -p "$work/embedded" && chown 10001:10001 "$work/embedded"
"${podman[@]}" run --rm --no-healthcheck -v "$root/deploy/k8s/overlays/smoke/smoke-job.yaml:/config/job.yaml:ro" -v "$work/embedded:/runs" \
  "$image" train --config /config/job.yaml --workers 2 --run-dir /runs/embedded >/dev/null
[ "$(sha256sum < "$runs/k8s/weights.safetensors")" = "$(sha256sum < "$work/embedded/embedded/weights.safetensors")" ] \
  || fail "the pods' weights differ from the embedded run's"
check "weights on the runs claim bit-identical to the embedded run of the same job"
