#!/usr/bin/env bash
# Kafka's topic tool, as /opt/kafka/bin/kafka-topics.sh of the apache/kafka image.
exec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.yaml \
  -cp '/opt/kafka/libs/*' org.apache.kafka.tools.TopicCommand "$@"
