# One image per service: docker build --build-arg SERVICE=Ingest -t ctm/ingest .
# SERVICE is one of Ingest, Validator, Trainer, Registry, Predictor (services/<SERVICE>/Ctm.<SERVICE>.csproj).
ARG SERVICE=""

# ONNX Runtime's native library, from the npm package onnxruntime-node, hash-checked by the same script as on a developer machine.
FROM node:20-bookworm-slim AS onnxruntime
WORKDIR /src
COPY scripts/install-onnxruntime.sh scripts/
RUN bash scripts/install-onnxruntime.sh && test -f .ctm/onnxruntime/libonnxruntime.so.1

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=Ingest|Validator|Trainer|Registry|Predictor" >&2; exit 1; }
WORKDIR /src
COPY . .
RUN dotnet publish "services/$SERVICE/Ctm.$SERVICE.csproj" -c Release -o /app -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
ARG SERVICE
# ONNX Runtime's string operators fail at model load without the en_US.UTF-8 locale.
RUN apt-get update \
    && apt-get install -y --no-install-recommends locales \
    && localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
# The binding looks for the library next to the app.
COPY --from=onnxruntime /src/.ctm/onnxruntime/libonnxruntime.so.1 ./
ENV CTM_SERVICE=$SERVICE \
    ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet \"Ctm.$CTM_SERVICE.dll\" \"$@\"", "--"]
