package main

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"path"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/signet-idp/signet/internal/config"
)

// renderedManifests are the objects a kustomization renders, each decoded
// strictly into its Kubernetes type.
type renderedManifests struct {
	deployments  []appsv1.Deployment
	services     []corev1.Service
	jobs         []batchv1.Job
	pdbs         []policyv1.PodDisruptionBudget
	configMaps   []corev1.ConfigMap
	secrets      []corev1.Secret
	objectsNamed []string
}

// renderKustomization renders dir with kustomize (krusty, as kubectl
// apply -k does) and decodes every object strictly: a misspelt or
// misplaced field fails, as an unknown kind does.
func renderKustomization(t *testing.T, dir string) renderedManifests {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out renderedManifests
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var target any
		switch gvk := r.GetGvk(); gvk.Group + "/" + gvk.Version + "/" + gvk.Kind {
		case "apps/v1/Deployment":
			out.deployments = append(out.deployments, appsv1.Deployment{})
			target = &out.deployments[len(out.deployments)-1]
		case "/v1/Service":
			out.services = append(out.services, corev1.Service{})
			target = &out.services[len(out.services)-1]
		case "batch/v1/Job":
			out.jobs = append(out.jobs, batchv1.Job{})
			target = &out.jobs[len(out.jobs)-1]
		case "policy/v1/PodDisruptionBudget":
			out.pdbs = append(out.pdbs, policyv1.PodDisruptionBudget{})
			target = &out.pdbs[len(out.pdbs)-1]
		case "/v1/ConfigMap":
			out.configMaps = append(out.configMaps, corev1.ConfigMap{})
			target = &out.configMaps[len(out.configMaps)-1]
		case "/v1/Secret":
			out.secrets = append(out.secrets, corev1.Secret{})
			target = &out.secrets[len(out.secrets)-1]
		default:
			t.Fatalf("%s renders a %s the test does not know; add it to renderKustomization", dir, gvk)
		}
		if err := yaml.UnmarshalStrict(y, target); err != nil {
			t.Errorf("%s: %s %s does not decode strictly: %v", dir, r.GetKind(), r.GetName(), err)
		}
		out.objectsNamed = append(out.objectsNamed, r.GetKind()+"/"+r.GetName())
	}
	return out
}

// TestKubernetesManifests renders deploy/base and deploy/example with
// kustomize, decodes every object strictly into the Kubernetes API types,
// and checks that they fit Signet: the commands and flags exist, the
// configuration file with the example's secrets is a valid configuration,
// the probes answer 200 on a real server, and selectors, ports, volumes
// and images line up.
func TestKubernetesManifests(t *testing.T) {
	base := renderKustomization(t, "../../deploy/base")
	if len(base.deployments) != 1 || len(base.jobs) != 1 || len(base.pdbs) != 1 || len(base.configMaps) != 1 || len(base.services) != 2 {
		t.Fatalf("deploy/base renders %v; want a Deployment, a migration Job, a PodDisruptionBudget, a ConfigMap and two Services", base.objectsNamed)
	}
	m := renderKustomization(t, "../../deploy/example")
	if len(m.deployments) != 1 || len(m.jobs) != 1 || len(m.pdbs) != 1 || len(m.configMaps) != 1 || len(m.services) != 2 || len(m.secrets) != 1 {
		t.Fatalf("deploy/example renders %v; want the base's objects and a Secret", m.objectsNamed)
	}
	dep, job, pdb, secret := m.deployments[0], m.jobs[0], m.pdbs[0], m.secrets[0]
	server, migrate := dep.Spec.Template.Spec, job.Spec.Template.Spec

	// The files each pod sees: the ConfigMap's and the Secret's keys
	// under their mount paths.
	podFiles := func(spec corev1.PodSpec) map[string]string {
		files := map[string]string{}
		vols := map[string]corev1.Volume{}
		for _, v := range spec.Volumes {
			vols[v.Name] = v
		}
		for _, vm := range spec.Containers[0].VolumeMounts {
			v, ok := vols[vm.Name]
			switch {
			case !ok:
				t.Errorf("volume mount %q has no volume", vm.Name)
			case v.ConfigMap != nil:
				if v.ConfigMap.Name != m.configMaps[0].Name {
					t.Errorf("volume %q mounts ConfigMap %q; the kustomization makes %q", v.Name, v.ConfigMap.Name, m.configMaps[0].Name)
				}
				for k, data := range m.configMaps[0].Data {
					files[path.Join(vm.MountPath, k)] = data
				}
			case v.Secret != nil:
				if v.Secret.SecretName != secret.Name {
					t.Errorf("volume %q mounts Secret %q; the example makes %q", v.Name, v.Secret.SecretName, secret.Name)
				}
				for k, data := range secret.StringData {
					files[path.Join(vm.MountPath, k)] = data
				}
			}
		}
		return files
	}

	// The server: `signet serve` with flags that exist, and a
	// configuration (file and secrets as mounted) that validates.
	c := server.Containers[0]
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("the Deployment runs %q, want serve", c.Args)
	}
	cfg := config.Default()
	serveCmd := newServeCmdWith(&cfg)
	if err := serveCmd.Flags().Parse(c.Args[1:]); err != nil {
		t.Fatalf("the Deployment's arguments %q: %v", c.Args, err)
	}
	if err := loadSettings(serveCmd, fakeSettingsEnv(envOf(c), podFiles(server))); err != nil {
		t.Fatalf("the Deployment's configuration: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the Deployment's configuration does not validate: %v", err)
	}
	if !serveCmd.Flags().Lookup("config").Changed || !serveCmd.Flags().Lookup("secret").Changed {
		t.Error("the Deployment reads no configuration file, or no secret from it")
	}
	grace := time.Duration(*server.TerminationGracePeriodSeconds) * time.Second
	if grace <= cfg.ShutdownDrainDelay+cfg.ShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds %s does not cover the drain delay %s plus the shutdown timeout %s",
			grace, cfg.ShutdownDrainDelay, cfg.ShutdownTimeout)
	}

	// The migration Job: `signet migrate` with the same image and a
	// database URL from the same configuration.
	jc := migrate.Containers[0]
	if len(jc.Args) == 0 || jc.Args[0] != "migrate" {
		t.Fatalf("the Job runs %q, want migrate", jc.Args)
	}
	migrateCmd := newMigrateCmd()
	if err := migrateCmd.Flags().Parse(jc.Args[1:]); err != nil {
		t.Fatalf("the Job's arguments %q: %v", jc.Args, err)
	}
	if err := loadSettings(migrateCmd, fakeSettingsEnv(envOf(jc), podFiles(migrate))); err != nil {
		t.Fatalf("the Job's configuration: %v", err)
	}
	if got := migrateCmd.Flags().Lookup("database-url").Value.String(); got != cfg.DatabaseURL || got == "" {
		t.Errorf("the Job migrates %q, the Deployment serves %q", got, cfg.DatabaseURL)
	}
	if jc.Image != c.Image || c.Image != "registry.example.com/signet:v1.0.0" {
		t.Errorf("images: Deployment %q, Job %q; want the example's registry.example.com/signet:v1.0.0 for both", c.Image, jc.Image)
	}
	if migrate.RestartPolicy != corev1.RestartPolicyOnFailure && migrate.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("the Job's restart policy %q", migrate.RestartPolicy)
	}

	// Selectors: the Services and the PodDisruptionBudget pick the
	// server's pods, never the migration's.
	podLabels, jobLabels := labels.Set(dep.Spec.Template.Labels), labels.Set(job.Spec.Template.Labels)
	depSel := labels.SelectorFromSet(dep.Spec.Selector.MatchLabels)
	if !depSel.Matches(podLabels) || depSel.Matches(jobLabels) {
		t.Errorf("the Deployment's selector %v must match its pods %v and not the Job's %v", depSel, podLabels, jobLabels)
	}
	pdbSel := labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels)
	if !pdbSel.Matches(podLabels) || pdbSel.Matches(jobLabels) || pdb.Spec.MinAvailable == nil {
		t.Errorf("the PodDisruptionBudget's selector %v must match the server's pods and not the Job's, with minAvailable", pdbSel)
	}

	// Ports: each named port is a listener of the configuration.
	listenPort := func(addr string) int32 {
		_, p, err := net.SplitHostPort(addr)
		n, err2 := strconv.Atoi(p)
		if err != nil || err2 != nil {
			t.Fatalf("listen address %q", addr)
		}
		return int32(n)
	}
	listeners := map[int32]string{listenPort(cfg.Listen): "public", listenPort(cfg.AdminListen): "admin"}
	portOf := map[string]int32{}
	for _, p := range c.Ports {
		if listeners[p.ContainerPort] == "" {
			t.Errorf("container port %s (%d) is no listener of the configuration (%v)", p.Name, p.ContainerPort, listeners)
		}
		portOf[p.Name] = p.ContainerPort
	}
	for _, svc := range m.services {
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		if !sel.Matches(podLabels) || sel.Matches(jobLabels) {
			t.Errorf("Service %s selects %v: want the server's pods only", svc.Name, sel)
		}
		for _, p := range svc.Spec.Ports {
			if _, ok := portOf[p.TargetPort.String()]; !ok {
				t.Errorf("Service %s targets port %q, which the container does not name", svc.Name, p.TargetPort.String())
			}
		}
	}

	// Probes: each asks a route that answers 200 on a running server.
	ts := startTestServer(t, withMemoryStore())
	probes := map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe}
	for _, name := range []string{"readiness", "liveness"} {
		if probes[name] == nil {
			t.Errorf("the Deployment has no %s probe", name)
		}
	}
	for name, p := range probes {
		if p == nil {
			continue
		}
		if p.HTTPGet == nil {
			t.Errorf("%s probe is not an HTTP GET", name)
			continue
		}
		port, ok := portOf[p.HTTPGet.Port.String()]
		if !ok {
			t.Errorf("%s probe asks port %q, which the container does not name", name, p.HTTPGet.Port.String())
			continue
		}
		base := ts.PublicURL
		if listeners[port] == "admin" {
			base = ts.AdminURL
		}
		resp, err := http.Get(base + p.HTTPGet.Path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s probe: GET %s on the %s listener = %d, want 200", name, p.HTTPGet.Path, listeners[port], resp.StatusCode)
		}
	}
	if p := c.ReadinessProbe; p != nil && p.HTTPGet != nil && p.HTTPGet.Path != "/health/ready" {
		t.Errorf("the readiness probe asks %s; only /health/ready follows the database and the shutdown drain", p.HTTPGet.Path)
	}
}

// envOf is a container's plain environment variables.
func envOf(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			panic(fmt.Sprintf("env %s from a reference: teach the manifest test to resolve it", e.Name))
		}
		env[e.Name] = e.Value
	}
	return maps.Clone(env)
}
