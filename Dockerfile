# Build stage: compile main.ts and its dependencies into one executable.
# (deno compile downloads its `denort` runtime, which needs internet access: it works here in a
# normal Docker build, not on our offline development machines.)
FROM denoland/deno:2.9.6 AS build
# Deno would otherwise ask its update server at every start.
ENV DENO_NO_UPDATE_CHECK=1
WORKDIR /app
COPY deno.json deno.lock ./
COPY main.ts ./
COPY src ./src
RUN deno install --frozen --entrypoint main.ts
RUN deno task compile

# Run stage: the binary alone, as a non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /app/dist/edr-preprocessor /usr/local/bin/edr-preprocessor
USER nonroot:nonroot
ENV HTTP_PORT=8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/edr-preprocessor"]
