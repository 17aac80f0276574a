package events

import (
	"regexp"
	"strings"
)

// The fleet topic scheme: every topic a box publishes starts with
//
//	{root}/{site}/{box}
//
// (root is mqtt.topic_prefix, default "edge"), so a topic has a fixed depth
// for its kind and one subscription pattern covers a whole fleet:
//
//	{root}/+/+/available              depth 4
//	{root}/+/+/heartbeat              depth 4
//	{root}/+/+/{camera}/events|state  depth 5
//	{root}/+/+/{camera}/{zone}/occupancy depth 6
//
// Every level is limited to TopicLevel: NATS maps '/' to '.', RabbitMQ maps
// '.' to '/' and both refuse or re-route other characters, so a level holding
// '.', ' ', '+' or '#' would land elsewhere on a clustered broker.

// DefaultTopicPrefix is the topic root when mqtt.topic_prefix is not set:
// configs fills it in, and the publisher and the tools that subscribe use it.
const DefaultTopicPrefix = "edge"

// TopicLevel is what one topic level (root, site, box, camera, zone) must
// look like.
var TopicLevel = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Prefix is the scheme's {root}/{site}/{box}. It does not validate: see
// ValidPrefix.
func Prefix(root, site, box string) string { return root + "/" + site + "/" + box }

// ValidPrefix reports whether every level of prefix matches TopicLevel.
func ValidPrefix(prefix string) bool {
	for _, l := range strings.Split(prefix, "/") {
		if !TopicLevel.MatchString(l) {
			return false
		}
	}
	return true
}

// HeartbeatTopic is {prefix}/heartbeat.
func HeartbeatTopic(prefix string) string { return prefix + "/heartbeat" }
