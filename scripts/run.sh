#!/bin/sh
# `make run`: bootstrap ./gitstore-data on first start (namespace default,
# repository default/catalog, admin token in gitstore-data/admin.token),
# then serve on 127.0.0.1:8080.
set -eu
cd "$(dirname "$0")/.."
DATA=${GITSTORE_DATA:-./gitstore-data}
LISTEN=${GITSTORE_LISTEN:-127.0.0.1:8080}
BIN=./build/gitstore
if [ ! -f "$DATA/admin.token" ]; then
	$BIN namespace create default --data "$DATA"
	$BIN repo create default/catalog --data "$DATA"
	umask 077
	$BIN token create --user admin --role 'admin:*' --data "$DATA" >"$DATA/admin.token.tmp"
	mv "$DATA/admin.token.tmp" "$DATA/admin.token"
	echo "admin token (also in $DATA/admin.token): $(cat "$DATA/admin.token")"
	echo "clone: git clone http://admin:$(cat "$DATA/admin.token")@$LISTEN/default/catalog.git"
fi
exec $BIN serve --data "$DATA" --listen "$LISTEN"
