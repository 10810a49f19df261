# node-gyp build of Descent's optional MPI binding (native/mpi/mpi.cc), run by native/install.mjs
# only when `mpicc` is on PATH: the compile and link flags are the ones that MPI's own wrapper
# reports (OpenMPI: --showme:compile / --showme:link), so no include or library path is guessed.
{
  "targets": [
    {
      "target_name": "descent_mpi",
      "sources": ["mpi.cc"],
      "defines": ["NAPI_VERSION=8", "OMPI_SKIP_MPICXX=1", "MPICH_SKIP_MPICXX=1"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(mpicc --showme:compile)"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17"],
      "cflags": ["-pthread"],
      "ldflags": ["-pthread"],
      "libraries": ["<!@(mpicc --showme:link)"]
    }
  ]
}
