"""minitorch.distributed: process groups and collectives on MPI (CPU tensors) and NCCL (CUDA tensors)."""
