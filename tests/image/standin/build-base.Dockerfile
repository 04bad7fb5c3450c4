# Stands in for debian:12 as the Dockerfile's build stage base: Debian 12 with the packages
# that stage installs already in place (PACKAGES, read from docker/Dockerfile by bases.py).
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
ARG PACKAGES
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${PACKAGES} \
 && rm -rf /var/lib/apt/lists/*
