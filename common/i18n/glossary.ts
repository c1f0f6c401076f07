// The lesson's terms in both languages, with a one-line meaning each: the app's glossary panel and
// docs/glossary.md are both made from this list (a test keeps the Markdown in step with it).
// Chinese terms are the lesson's own; names such as LeNet-5, MNIST, ReLU, Adam and SGD stay as they are.

export interface GlossaryText {
  term: string;
  meaning: string;
}

export interface GlossaryEntry {
  /** Stable id, also the anchor in docs/glossary.md. */
  id: string;
  en: GlossaryText;
  'zh-CN': GlossaryText;
}

export const GLOSSARY: readonly GlossaryEntry[] = [
  {
    id: 'convolution',
    en: { term: 'convolution', meaning: 'Slide a small grid of weights over the image and add up weight × pixel at every position: Y[i,j] = Σₘ Σₙ W[m,n]·X[i+m, j+n] + b.' },
    'zh-CN': { term: '卷积', meaning: '用一小块权重在图像上滑动，在每个位置把“权重×像素”相加：Y[i,j] = Σₘ Σₙ W[m,n]·X[i+m, j+n] + b。' },
  },
  {
    id: 'kernel',
    en: { term: 'kernel', meaning: 'The small grid of learned weights W that a convolution slides over its input; each kernel looks for one pattern.' },
    'zh-CN': { term: '卷积核', meaning: '卷积在输入上滑动的那一小块可学习权重 W；每个卷积核负责寻找一种图案。' },
  },
  {
    id: 'bias',
    en: { term: 'bias', meaning: 'The number b added after the weighted sum, so a unit can fire even when its input is zero.' },
    'zh-CN': { term: '偏置项', meaning: '加权求和之后再加上的常数 b，让神经元在输入为零时也能有输出。' },
  },
  {
    id: 'feature-map',
    en: { term: 'feature map', meaning: 'The image a kernel produces: bright where its pattern is found in the input, dark where it is not.' },
    'zh-CN': { term: '特征图', meaning: '一个卷积核输出的图像：输入中出现该图案的地方亮，没有的地方暗。' },
  },
  {
    id: 'activation',
    en: { term: 'activation function', meaning: 'The non-linear function applied to each weighted sum (sigmoid, tanh, ReLU); without it, stacked layers collapse into one.' },
    'zh-CN': { term: '激活函数', meaning: '作用在每个加权和上的非线性函数（sigmoid、tanh、ReLU）；没有它，多层网络就退化成一层。' },
  },
  {
    id: 'pooling',
    en: { term: 'pooling / subsampling', meaning: 'Shrink a feature map by summarising each 2×2 patch (its maximum or average), so small shifts matter less.' },
    'zh-CN': { term: '池化 / 下采样', meaning: '把特征图每个 2×2 区域概括成一个数（最大值或平均值），让图像变小，也让小的平移影响更小。' },
  },
  {
    id: 'fully-connected',
    en: { term: 'fully connected layer', meaning: 'A layer in which every output is a weighted sum of every input (F6 and the output layer of LeNet-5).' },
    'zh-CN': { term: '全连接层', meaning: '每个输出都是全部输入的加权和的层（LeNet-5 的 F6 和输出层）。' },
  },
  {
    id: 'receptive-field',
    en: { term: 'receptive field', meaning: 'The patch of the input image that one unit can see; it grows with every convolution and pooling layer.' },
    'zh-CN': { term: '感受野', meaning: '一个神经元能“看到”的输入图像区域；每经过一层卷积或池化，它就变大一些。' },
  },
  {
    id: 'stride',
    en: { term: 'stride', meaning: 'How many pixels the kernel moves between two positions; stride 2 halves the output size.' },
    'zh-CN': { term: '步幅', meaning: '卷积核每次移动的像素数；步幅为 2 时输出尺寸约减半。' },
  },
  {
    id: 'padding',
    en: { term: 'padding', meaning: 'Zeros added around the input so the kernel can also sit on the border; "same" keeps the output as large as the input.' },
    'zh-CN': { term: '填充', meaning: '在输入四周补零，让卷积核也能覆盖边缘；“same”填充使输出与输入一样大。' },
  },
  {
    id: 'dilated',
    en: { term: 'dilated convolution', meaning: 'A kernel with gaps of d − 1 pixels between its taps: a larger receptive field with the same number of weights (Yu & Koltun).' },
    'zh-CN': { term: '空洞卷积（膨胀卷积）', meaning: '卷积核的各个采样点之间隔开 d − 1 个像素：权重数量不变，感受野更大（Yu 与 Koltun）。' },
  },
  {
    id: 'transposed',
    en: { term: 'transposed convolution', meaning: 'Each input pixel scatters a weighted copy of the kernel into a larger output; used to upsample ("deconvolution").' },
    'zh-CN': { term: '转置卷积', meaning: '每个输入像素把一份加权的卷积核“撒”到更大的输出上，用来放大图像（又称“反卷积”）。' },
  },
  {
    id: 'depthwise-separable',
    en: { term: 'depthwise separable convolution', meaning: 'One K×K kernel per input channel, then a 1×1 convolution across channels: far fewer parameters (Chollet, Xception).' },
    'zh-CN': { term: '深度可分离卷积', meaning: '先对每个输入通道各用一个 K×K 卷积核，再用 1×1 卷积跨通道组合：参数少得多（Chollet，Xception）。' },
  },
  {
    id: 'parameter-sharing',
    en: { term: 'parameter sharing', meaning: 'The same kernel is used at every position, so a convolution needs far fewer weights than a fully connected layer.' },
    'zh-CN': { term: '参数共享', meaning: '同一个卷积核在所有位置重复使用，所以卷积层所需的权重远少于全连接层。' },
  },
  {
    id: 'translation-invariance',
    en: { term: 'translation invariance', meaning: 'Moving the digit a little does not change the answer: the same kernels find the same patterns anywhere.' },
    'zh-CN': { term: '平移不变性', meaning: '数字稍微移动位置，识别结果不变：同样的卷积核在任何位置都能找到同样的图案。' },
  },
  {
    id: 'weights',
    en: { term: 'weights', meaning: 'The numbers a network learns; training nudges them to lower the loss.' },
    'zh-CN': { term: '权重', meaning: '网络要学习的数值；训练就是一点点调整它们，让损失变小。' },
  },
  {
    id: 'loss',
    en: { term: 'loss', meaning: 'One number that says how wrong the network is on a batch; training tries to make it small.' },
    'zh-CN': { term: '损失', meaning: '衡量网络在一批数据上错得有多厉害的一个数；训练就是要让它变小。' },
  },
  {
    id: 'cross-entropy',
    en: { term: 'cross-entropy', meaning: 'The usual loss for classification: −log of the probability given to the right digit.' },
    'zh-CN': { term: '交叉熵', meaning: '分类任务最常用的损失：正确数字所得概率的负对数。' },
  },
  {
    id: 'softmax',
    en: { term: 'softmax', meaning: 'Turns ten scores into ten probabilities that add up to 100%.' },
    'zh-CN': { term: 'softmax', meaning: '把十个分数变成十个加起来等于 100% 的概率。' },
  },
  {
    id: 'rbf',
    en: { term: 'RBF output', meaning: 'LeNet-5\'s output layer: each digit\'s unit measures the distance from F6 to that digit\'s 7×12 bitmap; the smallest distance wins.' },
    'zh-CN': { term: 'RBF 输出层（径向基函数）', meaning: 'LeNet-5 的输出层：每个数字的单元计算 F6 与该数字 7×12 位图的距离，距离最小者胜出。' },
  },
  {
    id: 'gradient',
    en: { term: 'gradient', meaning: 'How much the loss changes when a weight changes a little; training moves each weight against it.' },
    'zh-CN': { term: '梯度', meaning: '某个权重稍微变化时损失变化多少；训练就是让每个权重沿梯度的反方向移动。' },
  },
  {
    id: 'gradient-norm',
    en: { term: 'gradient norm', meaning: 'The size of a layer\'s gradient; near zero means that layer has stopped learning.' },
    'zh-CN': { term: '梯度范数', meaning: '一层梯度的大小；接近零说明这一层已经学不动了。' },
  },
  {
    id: 'vanishing-gradient',
    en: { term: 'vanishing gradient', meaning: 'Gradients so small that the weights barely move: the reason the lesson\'s recipe stalls near 10%.' },
    'zh-CN': { term: '梯度消失', meaning: '梯度小到权重几乎不动：课程中的配方停在 10% 左右的原因。' },
  },
  {
    id: 'learning-rate',
    en: { term: 'learning rate', meaning: 'How big a step each weight takes against its gradient; too small is slow, too large diverges.' },
    'zh-CN': { term: '学习率', meaning: '每次沿梯度反方向走多大一步；太小学得慢，太大会发散。' },
  },
  {
    id: 'lr-decay',
    en: { term: 'learning-rate decay', meaning: 'The learning rate is multiplied by this factor after each epoch, so late steps are smaller and finer.' },
    'zh-CN': { term: '学习率衰减', meaning: '每一轮之后把学习率乘上这个系数，让后期的步子更小、更精细。' },
  },
  {
    id: 'momentum',
    en: { term: 'momentum', meaning: 'Each step keeps part of the previous step\'s direction, like a rolling ball; 0.9 keeps 90%.' },
    'zh-CN': { term: '动量', meaning: '每一步都保留上一步方向的一部分，像滚动的小球；0.9 表示保留 90%。' },
  },
  {
    id: 'batch-size',
    en: { term: 'batch size', meaning: 'How many images are looked at before the weights are updated once.' },
    'zh-CN': { term: '批大小', meaning: '每更新一次权重之前要看的图像数量。' },
  },
  {
    id: 'epoch',
    en: { term: 'epoch', meaning: 'One pass over every training image.' },
    'zh-CN': { term: '轮', meaning: '把全部训练图像完整看一遍。' },
  },
  {
    id: 'optimizer',
    en: { term: 'optimizer', meaning: 'The rule that turns gradients into weight changes (SGD, SGD with momentum, Adam).' },
    'zh-CN': { term: '优化器', meaning: '把梯度变成权重更新的规则（SGD、带动量的 SGD、Adam）。' },
  },
  {
    id: 'accuracy',
    en: { term: 'accuracy', meaning: 'The share of images whose digit the network names correctly; error rate = 100% − accuracy.' },
    'zh-CN': { term: '准确率', meaning: '网络认对的图像所占的比例；错误率 = 100% − 准确率。' },
  },
  {
    id: 'test-set',
    en: { term: 'test set', meaning: 'The 10,000 MNIST images never used for training: the honest measure of what the network learned.' },
    'zh-CN': { term: '测试集', meaning: 'MNIST 中从不参与训练的 10,000 张图像：检验网络真正学到了什么。' },
  },
  {
    id: 'confusion-matrix',
    en: { term: 'confusion matrix', meaning: 'A 10×10 table: row = true digit, column = the network\'s answer; the diagonal holds the right answers.' },
    'zh-CN': { term: '混淆矩阵', meaning: '10×10 的表格：行是真实数字，列是网络的回答；对角线上是答对的数量。' },
  },
  {
    id: 'overfitting',
    en: { term: 'overfitting', meaning: 'The network memorises its training images: training accuracy keeps rising while test accuracy stops or falls.' },
    'zh-CN': { term: '过拟合', meaning: '网络把训练图像背了下来：训练准确率还在上升，测试准确率却停滞甚至下降。' },
  },
  {
    id: 'augmentation',
    en: { term: 'data augmentation', meaning: 'Small random changes to the training digits (here a shift of up to 2 px) so the network cannot memorise them.' },
    'zh-CN': { term: '数据增强', meaning: '对训练数字做小的随机改动（这里是最多 2 像素的平移），让网络无法死记硬背。' },
  },
  {
    id: 'macs',
    en: { term: 'MACs (multiply-adds)', meaning: 'How many multiply-and-add operations one image costs in a layer: a measure of computing work.' },
    'zh-CN': { term: '乘加运算量（MACs）', meaning: '一张图像在某一层需要多少次“乘法加加法”：衡量计算量。' },
  },
  {
    id: 'confidence',
    en: { term: '% sure', meaning: 'The probability the network gives its answer; high does not mean right, and a stalled model is "10% sure" of everything.' },
    'zh-CN': { term: '置信度', meaning: '网络给出答案时的概率；高不代表正确，停滞的模型对每个答案都只有 10% 的把握。' },
  },
  {
    id: 'interpretability',
    en: { term: 'interpretability', meaning: 'How far we can explain why a network answers as it does; kernels and feature maps show what it looks at, not why.' },
    'zh-CN': { term: '可解释性', meaning: '我们能在多大程度上解释网络为什么这样回答；卷积核和特征图显示它在看什么，却不能说明为什么。' },
  },
];
