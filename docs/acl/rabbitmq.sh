#!/bin/sh
# RabbitMQ (MQTT plugin): MQTT topics become routing keys on amq.topic with
# '/' as '.', so a box's prefix edge/site1/site1-box1 is edge.site1.site1-box1.
# Topic permissions limit each box user to its own prefix; {username} is
# expanded by RabbitMQ. With mqtt.ssl_cert_login = true and
# ssl_cert_login_from = common_name, the certificate CN is the username.
set -eu
box=site1-box1
rabbitmqctl add_user "$box" "$BOX_PASSWORD"
rabbitmqctl set_permissions -p / "$box" "^mqtt-subscription-.*" "^(amq\.topic|mqtt-subscription-.*)$" "^(amq\.topic|mqtt-subscription-.*)$"
# Its own prefix, and its Home Assistant discovery configs when
# mqtt.home_assistant.node_id is box (read too: the box reads them back to
# clear stale ones, and RabbitMQ closes the connection of a client that
# subscribes where it may not read).
rabbitmqctl set_topic_permissions -p / "$box" amq.topic \
  '^(edge\.[^.]+\.{username}\..*|homeassistant\.[^.]+\.{username}\.[^.]+\.config)$' \
  '^(edge\.[^.]+\.{username}\..*|homeassistant\.[^.]+\.{username}\.[^.]+\.config)$'
# the fleet monitor (and Home Assistant) reads everything under edge and homeassistant
rabbitmqctl add_user fleet-monitor "$MONITOR_PASSWORD"
rabbitmqctl set_permissions -p / fleet-monitor "^mqtt-subscription-.*" "^mqtt-subscription-.*" "^(amq\.topic|mqtt-subscription-.*)$"
rabbitmqctl set_topic_permissions -p / fleet-monitor amq.topic '^$' '^(edge|homeassistant)\..*$'
