//go:build rabbitmq

package main

import (
	"testing"

	"github.com/edgeprivacy/edge/internal/rabbitmqtest"
)

type rabbitNodes struct{ *rabbitmqtest.Cluster }

func (n rabbitNodes) Kill(url string) { n.Node(url).Kill() }

// TestFleetFailoverRabbitMQ is TestFleetFailoverNATS against a 3-node
// RabbitMQ cluster (MQTT plugin, sessions on quorum queues), where retained
// messages stay on the node that took them: the state a subscriber on a
// surviving node sees is the one the box published again after the failover.
// Run by `make test-rabbitmq`, not by `make test`: an Erlang cluster takes a
// minute or more to form.
func TestFleetFailoverRabbitMQ(t *testing.T) {
	r := startFleetRig(t, rabbitNodes{rabbitmqtest.Start(t, 3)})
	r.retainedPerNode = true
	runFailover(t, r)
}
