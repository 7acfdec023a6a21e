#!/bin/bash
# LocalStack 0.14 init script, mounted into /docker-entrypoint-initaws.d by docker-compose.yml:
# creates what the users' environment has, the SQS queue `submissions` (defaults: no redrive
# policy, visibility timeout 30 s) and the Kinesis stream `events` with 2 shards.
#
# LocalStack 0.14 runs the .sh files of that directory once its services are up, by sourcing
# them from its entrypoint (which runs with `set -e`): so this script never calls `exit`, and a
# resource that already exists is not an error.

echo "edr-preprocessor init: queue submissions, stream events (2 shards)"
awslocal --region eu-west-1 sqs create-queue --queue-name submissions
if ! awslocal --region eu-west-1 kinesis describe-stream-summary --stream-name events >/dev/null 2>&1; then
  awslocal --region eu-west-1 kinesis create-stream --stream-name events --shard-count 2
fi
awslocal --region eu-west-1 kinesis wait stream-exists --stream-name events
echo "edr-preprocessor init: done"
