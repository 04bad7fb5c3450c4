# Stands in for kasmweb/obsidian: what the vaultshim image relies on from Kasm's images
# (kasmweb/core-*: USER 1000 named kasm-user with HOME=/home/kasm-user, STARTUPDIR=/dockerstartup,
# an entrypoint that starts /dockerstartup/custom_startup.sh in the background; the Obsidian
# image's custom_startup.sh keeps the app running and handles --go/--assign --url), with Node
# running obsidian-standin.js in place of the Obsidian AppImage.  Debian 12, not Ubuntu 22.04.
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1000 --user-group --create-home --shell /bin/bash kasm-user
COPY vnc_startup.sh custom_startup.sh /dockerstartup/
COPY obsidian-standin.js obsidian-sim.js /opt/obsidian-standin/
ENV HOME=/home/kasm-user \
    STARTUPDIR=/dockerstartup \
    DISPLAY=:1 \
    SHELL=/bin/bash
WORKDIR /home/kasm-user
USER 1000
ENTRYPOINT ["/dockerstartup/vnc_startup.sh"]
