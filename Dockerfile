# One image per service: docker build --build-arg SERVICE=Ingest -t ctm/ingest .
# SERVICE is one of Ingest, Validator, Trainer, Registry, Predictor (services/<SERVICE>/Ctm.<SERVICE>.csproj).
# ONNX Runtime comes from NuGet (Microsoft.ML.OnnxRuntime.Gpu.Linux): the publish output carries
# runtimes/linux-x64/native/libonnxruntime.so, found there by the managed package. Its CUDA provider (about 285 MB)
# is useless on this CPU base image, which has no CUDA 13 libraries, so it is dropped unless ONNXRUNTIME_CUDA=true
# (for an image built on an NVIDIA CUDA 13 runtime base; sessions asking for CUDA fall back to the CPU otherwise).
ARG SERVICE=""
ARG ONNXRUNTIME_CUDA=false

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG SERVICE
ARG ONNXRUNTIME_CUDA
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=Ingest|Validator|Trainer|Registry|Predictor" >&2; exit 1; }
WORKDIR /src
COPY . .
RUN dotnet publish "services/$SERVICE/Ctm.$SERVICE.csproj" -c Release -o /app -p:UseAppHost=false \
    && if [ "$ONNXRUNTIME_CUDA" != true ]; then \
         rm -f /app/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so \
               /app/runtimes/linux-x64/native/libonnxruntime_providers_tensorrt.so; \
       fi

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
ARG SERVICE
# ONNX Runtime's string operators fail at model load without the en_US.UTF-8 locale.
RUN apt-get update \
    && apt-get install -y --no-install-recommends locales \
    && localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV CTM_SERVICE=$SERVICE \
    ASPNETCORE_URLS=http://+:8080
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["/bin/sh", "-c", "exec dotnet \"Ctm.$CTM_SERVICE.dll\" \"$@\"", "--"]
