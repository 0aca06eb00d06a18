#!/usr/bin/env bash
# What docs/ci-service.md's GitHub Actions and GitLab CI steps run, line for line, so a test can run it
# (tests/serve/test_ci_snippet.py). Needs ecrlab, the AWS CLI, podman and skopeo on PATH; run it in an
# empty directory. The ports are the documented ones unless ECRLAB_PORT / ECRLAB_REGISTRY_PORT say otherwise.
set -euo pipefail
ECRLAB_PORT=${ECRLAB_PORT:-4566}
ECRLAB_REGISTRY_PORT=${ECRLAB_REGISTRY_PORT:-5000}

# --- start: a local ECR in the background, then wait until every endpoint answers ---
ecrlab serve --port "$ECRLAB_PORT" --registry-port-base "$ECRLAB_REGISTRY_PORT" --print-env > ecrlab.env 2> ecrlab.log &
echo $! > ecrlab.pid
for _ in $(seq 120); do
  curl -fsS "http://127.0.0.1:$ECRLAB_PORT/_ecrlab/health" > ecrlab-health.json 2>/dev/null && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$ECRLAB_PORT/_ecrlab/health" > ecrlab-health.json
eval "$(cat ecrlab.env)"  # AWS_ENDPOINT_URL, the sandbox's keys, AWS_DEFAULT_REGION, ECRLAB_REGISTRY

# --- use: the AWS CLI, a login with ECR's token, a build and a push ---
aws ecr create-repository --repository-name app --query repository.repositoryUri --output text
# 127.0.0.1 serves plain HTTP: podman, buildah and skopeo need --tls-verify=false (docker allows 127.0.0.0/8 as is).
aws ecr get-login-password | podman login --tls-verify=false -u AWS --password-stdin "$ECRLAB_REGISTRY"
printf 'hello from CI\n' > hello.txt
printf 'FROM scratch\nCOPY hello.txt /hello.txt\n' > Containerfile
podman build -q -t "$ECRLAB_REGISTRY/app:1" .
podman push --tls-verify=false "$ECRLAB_REGISTRY/app:1"
skopeo copy --src-tls-verify=false --dest-tls-verify=false "docker://$ECRLAB_REGISTRY/app:1" "docker://$ECRLAB_REGISTRY/app:copy"
aws ecr describe-images --repository-name app --query 'imageDetails[].imageTags[]' --output text

# --- stop: SIGTERM, and the job waits for a clean exit ---
kill -TERM "$(cat ecrlab.pid)"
wait "$(cat ecrlab.pid)"
