// Package ctrtest gives the agent's tests a real containerd (private
// root, state and socket; runc) whose containers are laid out as the
// kubelet lays them: a sandbox and app containers per pod, in the
// pod's cgroupfs cgroup, labelled as the kubelet labels them. Source is
// the test side of node.PodSource: it learns the pods from containerd's
// events and the containers' labels, as the API server would tell them.
package ctrtest
