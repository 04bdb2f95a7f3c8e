package pipeline

import (
	"context"
	"errors"

	"github.com/sysrec/sysrec/containers"
	"github.com/sysrec/sysrec/recorder"
)

// runtimeInits are the names (comm) a container runtime's init process
// has between joining a container's cgroup and exec'ing the container's
// process (runc names its stages; crun's forked child keeps its name).
// What they call there is the runtime's own setup: `emit --format oci`
// adds what the runtime needs under the filter (emit.ContainerRuntimes), so
// a container's profile leaves it out.
var runtimeInits = []string{"runc:[0:PARENT]", "runc:[1:CHILD]", "runc:[2:INIT]", "crun"}

// FindContainer finds the running container ref (engine: docker,
// podman, containerd, or "" for each in turn, then the cgroup names).
func FindContainer(ctx context.Context, ref, engine string) (*containers.Container, error) {
	root, _ := recorder.CgroupMount()
	return containers.Find(ctx, ref, containers.Options{Engine: engine, CgroupRoot: root})
}

// ForContainer points o at the running container c: it records the
// cgroup v2 subtree of the container's first process until the
// container stops (or the recording is stopped), names the profile
// after the container, writes as its recorded command how the engine
// runs it (engine, container name, image and command), and leaves out
// the runtime inits of a later `exec` into it.
func ForContainer(o RecordOptions, c *containers.Container) (RecordOptions, error) {
	if err := onItsOwn(o, c.PID); err != nil {
		return o, err
	}
	o.Recorder.PID = c.PID
	if o.Reduce.Name == "" {
		o.Reduce.Name = c.Name
	}
	o.Command = ContainerCommand(c)
	o.ExcludeExe = append(o.ExcludeExe, runtimeInits...)
	return o, nil
}

// RecordContainer finds the running container ref (see FindContainer)
// and points o at it (see ForContainer); options that name another
// target are refused before it looks.
func RecordContainer(ctx context.Context, o RecordOptions, ref, engine string) (RecordOptions, *containers.Container, error) {
	if err := onItsOwn(o, 0); err != nil {
		return o, nil, err
	}
	c, err := FindContainer(ctx, ref, engine)
	if err != nil {
		return o, nil, err
	}
	o, err = ForContainer(o, c)
	return o, c, err
}

// onItsOwn refuses options that name a target other than the container
// whose first process is pid.
func onItsOwn(o RecordOptions, pid int) error {
	if len(o.Recorder.Command) > 0 || o.Recorder.Cgroup != "" || (o.Recorder.PID != 0 && o.Recorder.PID != pid) {
		return errors.New("a container is recorded on its own: give no command, pid or cgroup with it")
	}
	return nil
}

// ContainerCommand is how c's engine runs it, as recorded.command:
// e.g. docker run --name web bb:local /bin/sh -c serve.
func ContainerCommand(c *containers.Container) []string {
	var cmd []string
	switch c.Engine {
	case "docker", "podman":
		cmd = []string{c.Engine, "run", "--name", c.Name}
	case "containerd":
		cmd = []string{"ctr", "run"}
	default:
		return append([]string{"container", c.ID}, c.Command...)
	}
	if c.Image != "" {
		cmd = append(cmd, c.Image)
	}
	if c.Engine == "containerd" {
		cmd = append(cmd, c.ID)
	}
	return append(cmd, c.Command...)
}
