package events

// Discovery is one Home Assistant MQTT discovery config, published retained
// on its own topic outside {prefix} (under Home Assistant's discovery
// prefix). An empty Config removes the entity from Home Assistant: the
// broker drops the retained config and Home Assistant deletes the entity.
type Discovery struct {
	latest // delivery: Home Assistant reads its configs from retained messages when it (re)starts
	// ConfigTopic is the full topic,
	// {discovery_prefix}/{component}/{node_id}/{object_id}/config.
	ConfigTopic string
	// Config is the JSON config, or empty to remove the entity.
	Config []byte
}

// Topic implements Message: the discovery topic, whatever the prefix.
func (d Discovery) Topic(string) string { return d.ConfigTopic }

// Payload implements Message.
func (d Discovery) Payload() ([]byte, error) { return d.Config, nil }
