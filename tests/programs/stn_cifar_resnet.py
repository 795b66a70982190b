"""The PyTorch spatial transformer tutorial's Net, the CIFAR-10 tutorial's Net, and a torchvision-style ResNet BasicBlock."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

class STN(nn.Module):
    def __init__(self):
        super(STN, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size())
        x = F.grid_sample(x, grid)
        return x
    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)

model = STN()
optimizer = optim.SGD(model.parameters(), lr=0.01)
data, target = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
for _ in range(2):
    optimizer.zero_grad(); loss = F.nll_loss(model(data), target); loss.backward(); optimizer.step()
print("stn", loss.item())

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5); self.pool = nn.MaxPool2d(2, 2); self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120); self.fc2 = nn.Linear(120, 84); self.fc3 = nn.Linear(84, 10)
    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x))); x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1); x = F.relu(self.fc1(x)); x = F.relu(self.fc2(x)); return self.fc3(x)
net = Net(); criterion = nn.CrossEntropyLoss(); optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
inputs, labels = torch.randn(4, 3, 32, 32), torch.tensor([1, 2, 3, 4])
for epoch in range(2):
    running_loss = 0.0
    optimizer.zero_grad(); outputs = net(inputs); loss = criterion(outputs, labels); loss.backward(); optimizer.step()
    running_loss += loss.item()
print(f'[{epoch + 1}] loss: {running_loss:.3f}')
_, predicted = torch.max(outputs, 1)
correct = (predicted == labels).sum().item()


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups, bias=False, dilation=dilation)
def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)
class BasicBlock(nn.Module):
    expansion = 1
    def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self.conv1 = conv3x3(inplanes, planes, stride); self.bn1 = norm_layer(planes); self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes); self.bn2 = norm_layer(planes); self.downsample = downsample; self.stride = stride
    def forward(self, x):
        identity = x
        out = self.conv1(x); out = self.bn1(out); out = self.relu(out)
        out = self.conv2(out); out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out
ds = nn.Sequential(conv1x1(16, 32, 2), nn.BatchNorm2d(32))
blk = nn.Sequential(nn.Conv2d(3, 16, kernel_size=7, stride=2, padding=3, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
                    nn.MaxPool2d(kernel_size=3, stride=2, padding=1), BasicBlock(16, 32, 2, ds), nn.AdaptiveAvgPool2d((1, 1)))
for m in blk.modules():
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.constant_(m.weight, 1); nn.init.constant_(m.bias, 0)
y = blk(torch.randn(2, 3, 64, 64)); print(y.shape); y.sum().backward()
print(sum(p.numel() for p in blk.parameters() if p.requires_grad))
