# The local stand-in for apache/kafka (scripts/docker-base-images.sh): Debian bookworm, Debian's
# Java 17 runtime and Apache Kafka's broker jars from the cache scripts/infra-up.sh fills. It is
# configured as the public image is: every KAFKA_* environment variable is a server property
# (kafka-run), the broker runs as appuser, and /opt/kafka/bin/kafka-topics.sh is there for health
# checks.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
  && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
  && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 1000 appuser \
  && useradd --uid 1000 --gid appuser --no-create-home appuser \
  && mkdir -p /opt/kafka/config /mnt/shared/config \
  && chown appuser:appuser /opt/kafka/config
COPY libs/ /opt/kafka/libs/
COPY kafka-run kafka-topics.sh /opt/kafka/bin/
COPY kafka-log4j2.yaml /etc/kafka/docker/log4j2.yaml
COPY kafka-tools-log4j2.yaml /etc/kafka/docker/tools-log4j2.yaml
USER appuser
EXPOSE 9092
CMD ["/opt/kafka/bin/kafka-run"]
