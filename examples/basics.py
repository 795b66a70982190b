"""The seed walkthrough's first two snippets: tensor basics and autograd."""
import minitorch as torch

# Tensor basics
x = torch.tensor([2.0, 3.0, 4.0])
print(x + 2)  # tensor([4., 5., 6.])
print(x * 3)  # tensor([ 6.,  9., 12.])

# Autograd
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x ** 2
z = y.sum()
z.backward()
print(x.grad)  # tensor([2., 4., 6.])
