"""A U-Net up block (Upsample, F.pad, cat) and pytorch/examples' VAE with its loss."""
import torch, torch.nn as nn, torch.nn.functional as F
class Up(nn.Module):
    def __init__(self, c):
        super().__init__(); self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True); self.conv = nn.Conv2d(2*c, c, 3, padding=1)
    def forward(self, x1, x2):
        x1 = self.up(x1)
        diffY = x2.size()[2] - x1.size()[2]; diffX = x2.size()[3] - x1.size()[3]
        x1 = F.pad(x1, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        return self.conv(torch.cat([x2, x1], dim=1))
d = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
x = torch.randn(2, 3, 17, 17); a = d(x); b = F.max_pool2d(a, 2); u = Up(8)(b, a); print(u.shape)
u.mean().backward()
class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(784, 400); self.fc21 = nn.Linear(400, 20); self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400); self.fc4 = nn.Linear(400, 784)
    def encode(self, x):
        h1 = F.relu(self.fc1(x)); return self.fc21(h1), self.fc22(h1)
    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5*logvar); eps = torch.randn_like(std); return mu + eps*std
    def decode(self, z):
        h3 = F.relu(self.fc3(z)); return torch.sigmoid(self.fc4(h3))
    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784)); z = self.reparameterize(mu, logvar); return self.decode(z), mu, logvar
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD
model = VAE(); opt = torch.optim.Adam(model.parameters(), lr=1e-3)
data = torch.rand(32, 1, 28, 28)
for i in range(3):
    opt.zero_grad(); recon, mu, logvar = model(data); loss = loss_function(recon, data, mu, logvar); loss.backward(); opt.step(); print(loss.item() / len(data))
# the paths where the C core calls back into the Python package (advanced indexing, return types, conversions):
# under `torch` they must stay in this package, not import a second copy named minitorch
v = torch.randn(6)
picked, top, mx = v[torch.tensor([0, 2])], v.topk(2), torch.randn(3, 4).max(1)
assert all(isinstance(t, torch.Tensor) for t in (picked, top.values, mx.values, v + torch.tensor([1.0])))
assert type(top).__module__.split(".")[0] == torch.__name__
