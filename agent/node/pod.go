package node

import (
	"context"
	"fmt"
	"path"
	"strings"
)

// Labels a pod opts in with.
const (
	// LabelRecord opts a pod in: "true".
	LabelRecord = "sysrec.dev/record"
	// LabelRecording names the workload its partials merge into
	// (default: the pod's controller, else the pod).
	LabelRecording = "sysrec.dev/recording"
)

// Pod is what the agent needs of a pod on its node.
type Pod struct {
	UID       string
	Namespace string
	Name      string
	Labels    map[string]string
	// Owner is the name of the pod's controller (a ReplicaSet, a Job),
	// "" if none.
	Owner string
	// QOS is the pod's QoS class as its cgroup is named: guaranteed,
	// burstable or besteffort.
	QOS string
	// Containers are its app containers, in spec order (init and
	// ephemeral containers are not recorded).
	Containers []Container
	Deleted    bool
}

// Container is one app container of a pod.
type Container struct {
	Name  string
	State State
}

// State is where a container is in its life.
type State int

const (
	Waiting State = iota // not started yet
	Running
	Exited
)

func (s State) String() string { return [...]string{"waiting", "running", "exited"}[s] }

// PodSource sends the pods of one node, whole, each time one changes,
// until ctx is done.
type PodSource interface {
	Run(ctx context.Context, pods chan<- Pod) error
}

// OptedIn reports whether p asked to be recorded.
func (p Pod) OptedIn() bool { return p.Labels[LabelRecord] == "true" }

// Recording is the recording id p's partials carry: its
// sysrec.dev/recording label, else its controller's name, else its own.
func (p Pod) Recording() string {
	if r := p.Labels[LabelRecording]; r != "" {
		return r
	}
	if p.Owner != "" {
		return p.Owner
	}
	return p.Name
}

// started lists the containers that are running or have run.
func (p Pod) started() []string {
	var names []string
	for _, c := range p.Containers {
		if c.State != Waiting {
			names = append(names, c.Name)
		}
	}
	return names
}

// finished reports whether every app container has exited.
func (p Pod) finished() bool {
	for _, c := range p.Containers {
		if c.State != Exited {
			return false
		}
	}
	return len(p.Containers) > 0
}

// Cgroup drivers of the kubelet.
const (
	DriverCgroupfs = "cgroupfs"
	DriverSystemd  = "systemd"
)

// PodCgroup is the pod's cgroup below the cgroup2 mount as the kubelet
// lays it out with driver: kubepods/QOS/podUID with cgroupfs,
// kubepods.slice/kubepods-QOS.slice/kubepods-QOS-podUID.slice with
// systemd (dashes of the UID become underscores); guaranteed pods sit
// directly below kubepods. Every container of the pod (and its sandbox)
// is below it, whatever the runtime names their own cgroups.
func PodCgroup(driver string, p Pod) (string, error) {
	if p.UID == "" || strings.ContainsAny(p.UID, "/.") {
		return "", fmt.Errorf("pod %s/%s: uid %q cannot name a cgroup", p.Namespace, p.Name, p.UID)
	}
	qos := p.QOS
	switch qos {
	case "guaranteed", "burstable", "besteffort":
	default:
		return "", fmt.Errorf("pod %s/%s: unknown qos class %q", p.Namespace, p.Name, p.QOS)
	}
	switch driver {
	case DriverCgroupfs:
		if qos == "guaranteed" {
			return path.Join("kubepods", "pod"+p.UID), nil
		}
		return path.Join("kubepods", qos, "pod"+p.UID), nil
	case DriverSystemd:
		uid := strings.ReplaceAll(p.UID, "-", "_")
		if qos == "guaranteed" {
			return path.Join("kubepods.slice", "kubepods-pod"+uid+".slice"), nil
		}
		return path.Join("kubepods.slice", "kubepods-"+qos+".slice", "kubepods-"+qos+"-pod"+uid+".slice"), nil
	}
	return "", fmt.Errorf("unknown cgroup driver %q (cgroupfs or systemd)", driver)
}
