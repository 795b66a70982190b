"""The seed walkthrough's first two snippets: tensor basics and autograd."""
import minitorch as torch

# Tensor basics
x = torch.tensor([1.0, 2.0, 3.0])
print(x)
print(x + 2)
print(x * 3)

# Autograd
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x ** 2
z = y.sum()
z.backward()
print(x.grad)
