#!/usr/bin/env bash
# Installs every Debian 12 package DualEmbed needs to build, test and run the demo.
# ParaView's CMake config needs many -dev packages that paraview-dev does not depend on;
# LibTorch needs libopenblas0-pthread or it falls back to the ~50x slower reference BLAS;
# libdnnl-dev gives the exact kNN oneDNN's sgemm (faster than OpenBLAS on CPUs it does not know).
set -euo pipefail

packages=(
  # ParaView and what its CMake config looks for
  paraview paraview-dev python3-paraview
  qtbase5-dev qttools5-dev libqt5svg5-dev libqt5opengl5-dev qtxmlpatterns5-dev-tools libqt5x11extras5-dev
  libutfcpp-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libdouble-conversion-dev libexpat1-dev libfreetype6-dev libgdal-dev
  libgl1-mesa-dev libgl2ps-dev libglew-dev libglu1-mesa-dev
  libhdf5-openmpi-dev libjpeg-dev libjsoncpp-dev liblz4-dev liblzma-dev
  libnetcdf-dev libpng-dev libproj-dev libpython3-dev libtbb-dev
  libtheora-dev libogg-dev libtiff-dev libx11-dev libxml2-dev libxt-dev
  mpi-default-dev mpi-default-bin zlib1g-dev libpugixml-dev libcgns-dev libprotobuf-dev
  libsqlite3-dev
  # build tools and engine libraries
  build-essential cmake ninja-build pkg-config
  libtorch-dev libopenblas0-pthread libdnnl-dev libflann-dev libxxhash-dev nlohmann-json3-dev libgtest-dev
  # Parquet and Arrow files (Hugging Face datasets): their codecs, flatbuffers' headers
  libsnappy-dev libzstd-dev liblz4-dev libbrotli-dev libflatbuffers-dev
  # fuzzing and sanitizer build (Testing/Fuzz): clang with libFuzzer, ASan/UBSan runtimes, OpenMP
  clang libclang-rt-14-dev libomp-dev
  # data, headless rendering, Python references for tests and benchmarks
  dataset-fashion-mnist xvfb xauth
  python3-numpy python3-pil python3-sklearn python3-h5py python3-pandas python3-torchvision umap-learn
  # the neighbour-graph benchmark's references (Testing/Benchmarks/benchmark_neighbor_graph.py)
  python3-hnswlib python3-faiss
  # cleanlab's package imports termcolor (Testing/Data/issues-reference runs cleanlab from its source)
  python3-termcolor python3-psutil
  # GUI tests: real mouse and keyboard events, screenshots, widget lookup (PyQt5 on ParaView's Qt)
  xdotool imagemagick python3-pyqt5
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${#missing[@]} Debian packages..."
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "All Debian packages already installed."
fi
