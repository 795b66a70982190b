"""The seed's network and training snippets, run with minitorch.

1. SimpleNet: a module with one Linear layer and its forward pass.
2. Linear regression: nn.Linear(1, 1), MSELoss, SGD(lr=0.01), 100 epochs.
3. An MNIST-shaped training step: SimpleNN on random 28x28 inputs and labels.
4. The GPU step: the same model and data moved with .to(device).
"""
import minitorch as torch
import minitorch.nn as nn
import minitorch.optim as optim

torch.manual_seed(0)


# 1. A module
class SimpleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        return self.fc(x)


net = SimpleNet()
print(net)
print(net(torch.tensor([[1.0, 2.0]])))

# 2. Linear regression: y = 2x + 1 with noise
X = torch.randn(100, 1)
y = 2 * X + 1 + 0.1 * torch.randn(100, 1)
model = nn.Linear(1, 1)
criterion = nn.MSELoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)
for epoch in range(100):
    optimizer.zero_grad()
    loss = criterion(model(X), y)
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 20 == 0:
        print(f"Epoch [{epoch + 1}/100], Loss: {loss.item():.4f}")
print(f"w = {model.weight.item():.4f}, b = {model.bias.item():.4f}")


# 3. An MNIST-shaped training step
class SimpleNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = x.view(-1, 28 * 28)
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = SimpleNN().to(device)
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)
inputs = torch.randn(64, 1, 28, 28).to(device)
labels = torch.randint(0, 10, (64,)).to(device)
optimizer.zero_grad()
outputs = model(inputs)
loss = criterion(outputs, labels)
loss.backward()
optimizer.step()
print(f"Training step completed on: {device}")
