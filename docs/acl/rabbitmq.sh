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
rabbitmqctl set_topic_permissions -p / "$box" amq.topic '^edge\.[^.]+\.{username}\..*$' '^edge\.[^.]+\.{username}\..*$'
# the fleet monitor reads everything under edge
rabbitmqctl add_user fleet-monitor "$MONITOR_PASSWORD"
rabbitmqctl set_permissions -p / fleet-monitor "^mqtt-subscription-.*" "^mqtt-subscription-.*" "^(amq\.topic|mqtt-subscription-.*)$"
rabbitmqctl set_topic_permissions -p / fleet-monitor amq.topic '^$' '^edge\..*$'
