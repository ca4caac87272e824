// Every kustomize overlay, rendered by kubectl and read into KubernetesClient's typed models, holds together as a batch job.
using System.Reflection;
using System.Text.RegularExpressions;
using DistClip.Cli.Commands;
using DistClip.Hosting;
using k8s;
using k8s.Models;
using Xunit;

namespace DistClip.Tests.Deploy;

/// <summary>
/// Renders each kustomization under deploy/k8s with <c>kubectl kustomize</c> (installed by scripts/setup-machine.sh) and
/// reads every document into its typed Kubernetes model, strictly: an unknown field or a value of the wrong type fails.
/// Then checks what no schema can: the workers' seed address is the coordinator's DNS name and port; every DISTCLIP_*
/// variable a container sets is one its command reads (from the CLI's own option declarations); every mounted
/// ConfigMap and PVC is in the render and every Secret is one deploy/README.md has the operator create; every workload
/// is a Job that never restarts a completed run, with the README's exit codes in its podFailurePolicy; every container's
/// liveness and readiness probes ask /healthz and /readyz on its declared metrics port (DISTCLIP_METRICS_PORT).
/// </summary>
public sealed class KustomizeRenderSpecs
{
    private static readonly string K8s = Path.Combine(DeployFiles.Root, "k8s");

    /// <summary>Every folder under deploy/k8s with a kustomization.yaml, relative to it: the base and each overlay.</summary>
    private static List<string> Folders() => Directory.GetFiles(K8s, "kustomization.yaml", SearchOption.AllDirectories)
        .Select(file => Path.GetRelativePath(K8s, Path.GetDirectoryName(file)!)).Order().ToList();

    public static TheoryData<string> Kustomizations() => new(Folders());

    [Fact]
    public void Should_find_the_base_and_the_gpu_overlay()
    {
        var found = Folders();
        Assert.Contains("base", found);
        Assert.Contains(Path.Combine("overlays", "gpu"), found);
    }

    [Fact]
    public void Should_fail_the_typed_reading_on_an_unknown_field_and_on_a_wrong_type()
    {
        const string job = "apiVersion: batch/v1\nkind: Job\nmetadata: { name: j }\nspec:\n  completions: 1\n  template: { spec: { restartPolicy: Never, containers: [{ name: c, image: i }] } }\n";
        Assert.IsType<V1Job>(Assert.Single(Manifests.Read(job)));
        Assert.ThrowsAny<Exception>(() => Manifests.Read(job.Replace("completions: 1", "completion: 1")));
        Assert.ThrowsAny<Exception>(() => Manifests.Read(job.Replace("completions: 1", "completions: one")));
        Assert.ThrowsAny<Exception>(() => Manifests.Read(job.Replace("restartPolicy: Never", "restartPolicy: { never: true }")));
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Should_render_into_typed_models_with_only_jobs_as_workloads(string kustomization)
    {
        var render = Manifests.Render(Path.Combine(K8s, kustomization));
        Assert.All(render.Documents, d => Assert.True(d is V1Job or V1Service or V1ConfigMap or V1PersistentVolumeClaim,
            $"{kustomization}: a {d.GetType().Name} — a run is a batch job: workloads are Jobs, which end"));
        Assert.Equal(["distclip-coordinator", "distclip-worker"], render.Jobs.Select(j => j.Metadata.Name).Order());
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Should_point_the_workers_at_the_coordinators_dns_name_and_port(string kustomization)
    {
        var render = Manifests.Render(Path.Combine(K8s, kustomization));
        var coordinator = render.Coordinator.Spec.Template.Spec;
        var coordinatorEnv = Manifests.Env(render.Coordinator);
        var seed = NodeSettings.Resolve("worker", null, null, null, Manifests.Env(render.Workers)[EnvironmentNames.SeedNodes]).SeedNodes.Single();
        var address = new Uri(seed.Replace("akka.tcp://", "tcp://", StringComparison.Ordinal));
        string dnsName = $"{coordinator.Hostname}.{coordinator.Subdomain}";
        Assert.Equal(dnsName, address.Host);
        Assert.Equal(dnsName, coordinatorEnv[EnvironmentNames.PublicHostname]);
        Assert.Equal($"{address.Port}", coordinatorEnv[EnvironmentNames.Port]);

        // The subdomain is a headless Service that selects the coordinator's pod and carries its ports.
        var service = render.Documents.OfType<V1Service>().Single(s => s.Metadata.Name == coordinator.Subdomain);
        Assert.Equal("None", service.Spec.ClusterIP);
        Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, render.Coordinator.Spec.Template.Metadata.Labels[label.Key]));
        var containerPorts = render.Coordinator.Spec.Template.Spec.Containers[0].Ports.Select(p => p.ContainerPort).ToList();
        foreach (var port in new[] { coordinatorEnv[EnvironmentNames.Port], coordinatorEnv[EnvironmentNames.BulkPort] })
        {
            Assert.Contains(int.Parse(port!), service.Spec.Ports.Select(p => p.Port));
            Assert.Contains(int.Parse(port!), containerPorts);
        }
        // Workers are reached at their pod's own address (the sharded exchange: worker to worker too).
        var workerPublic = render.Workers.Spec.Template.Spec.Containers[0].Env.Single(e => e.Name == EnvironmentNames.PublicHostname);
        Assert.Equal("status.podIP", workerPublic.ValueFrom?.FieldRef?.FieldPath);
        Assert.Equal("0.0.0.0", Manifests.Env(render.Workers)[EnvironmentNames.Hostname]);
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Should_probe_liveness_and_readiness_on_the_metrics_port_of_every_container(string kustomization)
    {
        foreach (var job in Manifests.Render(Path.Combine(K8s, kustomization)).Jobs)
        {
            var container = Assert.Single(job.Spec.Template.Spec.Containers);
            var declared = container.Ports ?? [];
            string where = $"{kustomization}: {job.Metadata.Name}";
            // The endpoint's port is the one named metrics, and every probe asks a port the container declares.
            var metrics = declared.SingleOrDefault(p => p.Name == "metrics");
            Assert.True(metrics is not null, $"{where} declares no containerPort named metrics");
            Assert.Equal($"{metrics.ContainerPort}", Manifests.Env(job)[EnvironmentNames.MetricsPort]);
            foreach (var (kind, probe) in new[] { ("liveness", container.LivenessProbe), ("readiness", container.ReadinessProbe), ("startup", container.StartupProbe) })
            {
                if (probe?.HttpGet?.Port?.Value is not { } port) continue;
                Assert.True(declared.Any(p => p.Name == port || $"{p.ContainerPort}" == port), $"{where}: the {kind} probe asks port {port}, which the container does not declare");
            }
            Assert.Equal(("/healthz", "metrics"), (container.LivenessProbe?.HttpGet?.Path, container.LivenessProbe?.HttpGet?.Port?.Value));
            Assert.Equal(("/readyz", "metrics"), (container.ReadinessProbe?.HttpGet?.Path, container.ReadinessProbe?.HttpGet?.Port?.Value));
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Should_set_only_variables_the_command_of_each_container_reads(string kustomization)
    {
        var render = Manifests.Render(Path.Combine(K8s, kustomization));
        foreach (var job in render.Jobs)
        {
            var container = Assert.Single(job.Spec.Template.Spec.Containers);
            string command = container.Args[0];
            var reads = CliVariables.ReadBy(command);
            foreach (var variable in container.Env.Select(e => e.Name).Where(n => n.StartsWith("DISTCLIP_", StringComparison.Ordinal)))
                Assert.True(reads.Contains(variable), $"{kustomization}: {job.Metadata.Name} sets {variable}, which `distclip {command}` does not read (it reads {string.Join(", ", reads.Order())})");
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Should_mount_only_configmaps_and_claims_of_the_render_and_secrets_the_readme_creates(string kustomization)
    {
        var render = Manifests.Render(Path.Combine(K8s, kustomization));
        var configMaps = render.Documents.OfType<V1ConfigMap>().Select(c => c.Metadata.Name).ToHashSet();
        var claims = render.Documents.OfType<V1PersistentVolumeClaim>().Select(c => c.Metadata.Name).ToHashSet();
        var secrets = DeployFiles.SecretsTheReadmeCreates();
        Assert.NotEmpty(secrets);
        foreach (var job in render.Jobs)
        {
            var pod = job.Spec.Template.Spec;
            foreach (var mount in pod.Containers.SelectMany(c => c.VolumeMounts))
            {
                var volume = pod.Volumes.SingleOrDefault(v => v.Name == mount.Name);
                Assert.True(volume is not null, $"{job.Metadata.Name} mounts volume '{mount.Name}', which its pod does not have");
                if (volume.ConfigMap is { } map) Assert.True(configMaps.Contains(map.Name), $"{job.Metadata.Name}: ConfigMap '{map.Name}' is not in the render");
                if (volume.PersistentVolumeClaim is { } claim) Assert.True(claims.Contains(claim.ClaimName), $"{job.Metadata.Name}: claim '{claim.ClaimName}' is not in the render");
                if (volume.Secret is { } secret) Assert.True(secrets.Contains(secret.SecretName), $"{job.Metadata.Name}: Secret '{secret.SecretName}' is not one deploy/README.md creates ({string.Join(", ", secrets)})");
            }
            // The files the variables name are inside the mounts of the Secrets that hold them.
            var env = Manifests.Env(job);
            Assert.Equal("distclip-join-secret", Manifests.VolumeAt(job, Path.GetDirectoryName(env[EnvironmentNames.SecretFile])!).Secret?.SecretName);
            Assert.Equal("distclip-tls", Manifests.VolumeAt(job, env[EnvironmentNames.TlsDirectory]!).Secret?.SecretName);
            Assert.Equal(Path.GetFileName(env[EnvironmentNames.SecretFile]), DeployFiles.JoinSecretKey());
        }
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Should_never_restart_a_completed_run_and_map_the_exit_codes(string kustomization)
    {
        var render = Manifests.Render(Path.Combine(K8s, kustomization));
        foreach (var job in render.Jobs)
        {
            Assert.Equal("Never", job.Spec.Template.Spec.RestartPolicy);   // a succeeded pod is not started again; podFailurePolicy needs it
            var rules = job.Spec.PodFailurePolicy?.Rules ?? [];
            string container = job.Spec.Template.Spec.Containers[0].Name;
            string? ActionOn(int code) => rules.FirstOrDefault(r => r.OnExitCodes is { } e && (e.ContainerName is null || e.ContainerName == container)
                && (e.OperatorProperty == "In" ? e.Values.Contains(code) : !e.Values.Contains(code)))?.Action;
            Assert.Equal("FailJob", ActionOn(ExitCodes.BadInput));
            Assert.Null(ActionOn(ExitCodes.RunTimeFailure));     // counted against backoffLimit: retried
            Assert.Null(ActionOn(ExitCodes.Completed));
            Assert.Contains(rules, r => r.Action == "Ignore" && r.OnPodConditions?.Any(c => c.Type == "DisruptionTarget") == true);
            Assert.True(job.Spec.BackoffLimit is > 0, $"{job.Metadata.Name}: no retries");
        }

        // The coordinator: one completion; a stopped run (75) resumes from its checkpoint on a claim, uncounted.
        var coordinator = render.Coordinator;
        Assert.Equal((1, 1), (coordinator.Spec.Completions, coordinator.Spec.Parallelism));
        Assert.Contains(coordinator.Spec.PodFailurePolicy.Rules, r => r.Action == "Ignore" && r.OnExitCodes?.Values.Contains(ExitCodes.StoppedResumable) == true);
        var args = coordinator.Spec.Template.Spec.Containers[0].Args;
        Assert.Equal("auto", args[args.IndexOf(ResumeFromCheckpoint.OptionName) + 1]);
        string runDir = args[args.IndexOf("--run-dir") + 1];
        Assert.NotNull(Manifests.VolumeAt(coordinator, runDir).PersistentVolumeClaim);

        // The workers: as many pods as the coordinator waits for; the first that sees the run complete completes the Job.
        var workers = render.Workers;
        Assert.Equal("Indexed", workers.Spec.CompletionMode);
        Assert.Equal(workers.Spec.Completions, workers.Spec.Parallelism);
        Assert.Equal(1, Assert.Single(workers.Spec.SuccessPolicy.Rules).SucceededCount);
        Assert.Equal(int.Parse(Manifests.Env(coordinator)[EnvironmentNames.MinWorkers]!), workers.Spec.Completions * int.Parse(Manifests.Env(workers)[EnvironmentNames.Workers]!));
        Assert.True(int.Parse(Manifests.Env(coordinator)[EnvironmentNames.Linger]!) > 0, "a coordinator that leaves at once lets a late worker wait out its timeout");
    }

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Should_run_every_container_as_non_root_on_a_read_only_root_with_requests_and_memory_limits(string kustomization)
    {
        foreach (var job in Manifests.Render(Path.Combine(K8s, kustomization)).Jobs)
        {
            var pod = job.Spec.Template.Spec;
            foreach (var c in pod.Containers)
            {
                Assert.True((c.SecurityContext?.RunAsNonRoot ?? pod.SecurityContext?.RunAsNonRoot) == true, $"{job.Metadata.Name}/{c.Name} may run as root");
                Assert.True((c.SecurityContext?.RunAsUser ?? pod.SecurityContext?.RunAsUser) is > 0, $"{job.Metadata.Name}/{c.Name}: no numeric non-root user");
                Assert.True(c.SecurityContext?.ReadOnlyRootFilesystem == true, $"{job.Metadata.Name}/{c.Name}: writable root file system");
                Assert.True(c.SecurityContext?.AllowPrivilegeEscalation == false, $"{job.Metadata.Name}/{c.Name}: privilege escalation allowed");
                Assert.Contains("ALL", c.SecurityContext?.Capabilities?.Drop ?? []);
                Assert.NotNull(Manifests.VolumeAt(job, "/tmp").EmptyDir);   // the one place the process writes outside its volumes
                Assert.True(c.Resources?.Requests?.ContainsKey("cpu") == true && c.Resources.Requests.ContainsKey("memory"), $"{job.Metadata.Name}/{c.Name}: no requests");
                Assert.True(c.Resources.Limits?.ContainsKey("memory") == true, $"{job.Metadata.Name}/{c.Name}: no memory limit");
            }
        }
    }

    /// <summary>
    /// A Secret's files belong to root; with a mode that others cannot read (the certificates' 0400) a non-root container
    /// reads them only through the pod's fsGroup, which the kubelet gives them with group read. Without it the node exits 2
    /// at start ("Access to the path … is denied"): what podman kube play showed for the coordinator (podman ignores
    /// fsGroup) and what the workers, which had none, would have met on a real cluster.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void Should_let_the_non_root_user_read_every_mounted_secret(string kustomization)
    {
        foreach (var job in Manifests.Render(Path.Combine(K8s, kustomization)).Jobs)
        {
            var pod = job.Spec.Template.Spec;
            foreach (var volume in pod.Volumes.Where(v => v.Secret is not null))
            {
                int mode = volume.Secret.DefaultMode ?? 0b110_100_100;   // Kubernetes' default: 0644
                bool othersRead = (mode & 0b100) != 0;
                Assert.True(othersRead || pod.SecurityContext?.FsGroup is not null,
                    $"{job.Metadata.Name}: Secret '{volume.Secret.SecretName}' has mode {Convert.ToString(mode, 8)} and the pod no fsGroup: user {pod.SecurityContext?.RunAsUser} cannot read it");
                if (!othersRead) Assert.Equal(pod.SecurityContext!.RunAsGroup ?? pod.SecurityContext.FsGroup, pod.SecurityContext.FsGroup);
            }
        }
    }

    [Fact]
    public void Should_put_one_gpu_under_each_worker_in_the_gpu_overlay_with_the_cuda_image()
    {
        var render = Manifests.Render(Path.Combine(K8s, "overlays", "gpu"));
        var worker = render.Workers.Spec.Template.Spec.Containers[0];
        Assert.Equal("cuda", Manifests.Env(render.Workers)[EnvironmentNames.Device]);
        Assert.Equal(new ResourceQuantity("1"), worker.Resources.Limits["nvidia.com/gpu"]);
        Assert.EndsWith(":cuda", worker.Image);
        Assert.Equal("cpu", Manifests.Env(Manifests.Render(Path.Combine(K8s, "base")).Workers)[EnvironmentNames.Device]);
    }
}

/// <summary>The DISTCLIP_* variables each command reads, from its own option declarations (each names the variable it falls back to).</summary>
public static class CliVariables
{
    /// <summary>Every variable name the code defines (<see cref="EnvironmentNames"/>' constants).</summary>
    public static IReadOnlySet<string> Defined { get; } = typeof(EnvironmentNames).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToHashSet();

    public static IReadOnlySet<string> ReadBy(string command)
    {
        var cli = command switch
        {
            "coordinator" => CoordinatorCommand.Create(),
            "worker" => WorkerCommand.Create(),
            "train" => TrainCommand.Create(),
            _ => throw new ArgumentException($"no such distclip command in a manifest: '{command}'"),
        };
        var named = cli.Options.SelectMany(o => Regex.Matches(o.Description ?? "", @"env (DISTCLIP_[A-Z_]+)").Select(m => m.Groups[1].Value)).ToHashSet();
        Assert.Subset(Defined.ToHashSet(), named);   // a description that names a variable the code does not define is a typo
        return named;
    }
}

/// <summary>Rendering and typed reading of Kubernetes manifests.</summary>
public static class Manifests
{
    public sealed record Rendered(IReadOnlyList<object> Documents)
    {
        public IEnumerable<V1Job> Jobs => Documents.OfType<V1Job>();
        public V1Job Coordinator => Jobs.Single(j => j.Spec.Template.Spec.Containers[0].Args?.FirstOrDefault() == "coordinator");
        public V1Job Workers => Jobs.Single(j => j.Spec.Template.Spec.Containers[0].Args?.FirstOrDefault() == "worker");
    }

    public static Rendered Render(string kustomization)
    {
        var (code, stdout, stderr) = Run("kubectl", "kustomize", kustomization);
        Assert.True(code == 0, $"kubectl kustomize {kustomization} exited {code}: {stderr}");
        return new Rendered(Read(stdout));
    }

    /// <summary>Every document of <paramref name="yaml"/> as its typed model; an unknown field or a wrong type throws.</summary>
    public static IReadOnlyList<object> Read(string yaml) => KubernetesYaml.LoadAllFromString(yaml, typeMap: null, strict: true);

    /// <summary>The first container's literal variables (null for those from valueFrom).</summary>
    public static Dictionary<string, string?> Env(V1Job job) => job.Spec.Template.Spec.Containers[0].Env.ToDictionary(e => e.Name, e => (string?)e.Value);

    /// <summary>The volume mounted at <paramref name="path"/> or the nearest folder above it in the job's first container.</summary>
    public static V1Volume VolumeAt(V1Job job, string path)
    {
        var pod = job.Spec.Template.Spec;
        var mount = pod.Containers[0].VolumeMounts.Where(m => path == m.MountPath || path.StartsWith(m.MountPath.TrimEnd('/') + "/", StringComparison.Ordinal))
            .MaxBy(m => m.MountPath.Length);
        Assert.True(mount is not null, $"{job.Metadata.Name}: nothing is mounted at {path}");
        return pod.Volumes.Single(v => v.Name == mount.Name);
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        System.Diagnostics.Process process;
        try { process = System.Diagnostics.Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} is not installed ({e.Message}); scripts/setup-machine.sh installs it (./run-tests runs it).", e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout, stderr.Result);
        }
    }
}

/// <summary>The deploy/ folder and what its README tells the operator to create.</summary>
public static class DeployFiles
{
    public static string Root { get; } = Path.Combine(RepositoryRoot(), "deploy");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DistClip.sln"))) return dir.FullName;
        throw new InvalidOperationException("DistClip.sln not found above the test binaries.");
    }

    private static string Readme => File.ReadAllText(Path.Combine(Root, "README.md"));

    /// <summary>The Secrets deploy/README.md has the operator create (<c>kubectl create secret generic NAME …</c>).</summary>
    public static IReadOnlySet<string> SecretsTheReadmeCreates() =>
        Regex.Matches(Readme, @"kubectl create secret generic ([a-z0-9-]+)").Select(m => m.Groups[1].Value).ToHashSet();

    /// <summary>The key the README stores the join secret under (<c>--from-file=KEY=…</c>).</summary>
    public static string JoinSecretKey() => Regex.Match(Readme, @"kubectl create secret generic distclip-join-secret --from-file=([a-z0-9-]+)=").Groups[1].Value;
}
