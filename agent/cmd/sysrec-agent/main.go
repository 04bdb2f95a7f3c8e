// Command sysrec-agent is sysrec's Kubernetes node agent (a DaemonSet,
// deploy/): it records the pods of its node labelled
// sysrec.dev/record=true, publishes each container's recording as a
// partial security-profiles-operator SeccompProfile, and merges the
// partials of each workload into one profile SPO distributes and the
// kubelet loads. See docs/fleet.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sysrec/sysrec/agent/merge"
	"github.com/sysrec/sysrec/agent/node"
)

const usage = `usage: sysrec-agent [flags]

Records the pods of this node labelled sysrec.dev/record=true (their
partials merge by the sysrec.dev/recording label, else the pod's
controller), from before their containers start until they exit, and
publishes one partial SeccompProfile (security-profiles-operator.x-k8s.io/v1)
per container; with --merge it also merges every workload's partials.

Examples:
  sysrec-agent --node "$NODE_NAME"                     # in the DaemonSet (deploy/)
  sysrec-agent --kubeconfig ~/.kube/config --node n1 --cgroup-driver systemd
  sysrec-agent --merge-only --kubeconfig ~/.kube/config   # the merge controller alone

Flags:
`

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	fs := flag.NewFlagSet("sysrec-agent", flag.ExitOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage); fs.PrintDefaults() }
	nodeName := fs.String("node", os.Getenv("NODE_NAME"), "this node's name (default $NODE_NAME)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig `FILE` (default: in-cluster)")
	stateDir := fs.String("state-dir", "/var/lib/sysrec-agent", "host `DIR` keeping recordings in progress and partials not yet published")
	driver := fs.String("cgroup-driver", node.DriverCgroupfs, "the kubelet's cgroup driver: cgroupfs or systemd")
	maxDuration := fs.Duration("max-duration", 0, "stop each recording after this long (0: when its containers exit)")
	files := fs.Bool("files", false, "also record files and ports into the profiles' Landlock sections")
	doMerge := fs.Bool("merge", true, "also run the merge controller (optimistic concurrency: every agent may)")
	mergeOnly := fs.Bool("merge-only", false, "run only the merge controller, record nothing")
	fs.Parse(os.Args[1:])
	if err := run(*kubeconfig, *nodeName, *stateDir, *driver, *maxDuration, *files, *doMerge || *mergeOnly, *mergeOnly); err != nil {
		log.Printf("sysrec-agent: %v", err)
		os.Exit(2)
	}
}

func run(kubeconfig, nodeName, stateDir, driver string, maxDuration time.Duration, files, doMerge, mergeOnly bool) error {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return fmt.Errorf("load client configuration: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errs := make(chan error, 2)
	n := 0
	if doMerge {
		n++
		go func() {
			errs <- (&merge.Controller{Client: dyn, Errorf: log.Printf,
				Merged: func(r merge.Result) {
					log.Printf("merged %d partial(s) into %s (version %d)", r.Added, r.Name, r.Version)
				},
			}).Run(ctx)
		}()
	}
	if !mergeOnly {
		if nodeName == "" {
			return errors.New("--node or $NODE_NAME: which node's pods to record")
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return err
		}
		n++
		go func() {
			errs <- node.Run(ctx, node.Options{
				Node: nodeName, Source: node.InformerSource{Client: cs, Node: nodeName},
				Recorder: node.LibraryRecorder{Files: files}, Client: dyn,
				StateDir: stateDir, CgroupDriver: driver, MaxDuration: maxDuration, Logf: log.Printf,
				Observe: func(e node.Event) {
					log.Printf("%s %s %s%s", e.Kind, e.Pod, e.Partial, map[bool]string{true: " (incomplete: " + e.Incomplete + ")"}[e.Incomplete != ""])
				},
			})
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
			stop()
		}
	}
	return first
}
