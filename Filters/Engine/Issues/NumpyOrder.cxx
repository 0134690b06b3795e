// NumPy 1.24's orderings and sums, ported so that Data Issues ranks, breaks
// ties and rounds exactly as cleanlab does on NumPy (Documentation/DATA-ISSUES.md).
#include "NumpyOrder.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace
{
// NumPy's "less" for doubles (NaN sorts last); no NaN reaches here.
inline bool npLess(double a, double b)
{
  return a < b || (b != b && a == a);
}

int mostSignificantBit(int64_t n)
{
  int depth = 0;
  while (n >>= 1)
  {
    ++depth;
  }
  return depth;
}

/// NumPy's sift-down: moves a[i] down the 1-based heap a[1..n] of v's keys.
void numpySiftDown(const double* v, int64_t* a, int64_t i, int64_t n)
{
  const int64_t tmp = a[i];
  for (int64_t j = i << 1; j <= n;)
  {
    if (j < n && npLess(v[a[j]], v[a[j + 1]]))
    {
      j += 1;
    }
    if (!npLess(v[tmp], v[a[j]]))
    {
      break;
    }
    a[i] = a[j];
    i = j;
    j += j;
  }
  a[i] = tmp;
}

void numpyHeapsort(const double* v, int64_t* tosort, int64_t n)
{
  int64_t* a = tosort - 1; // 1-based heap indexing, as NumPy
  for (int64_t l = n >> 1; l > 0; --l)
  {
    numpySiftDown(v, a, l, n);
  }
  for (; n > 1;)
  {
    std::swap(a[1], a[n]);
    n -= 1;
    numpySiftDown(v, a, 1, n);
  }
}
} // namespace

double numpySum(const double* a, int64_t n)
{
  if (n < 8)
  {
    double res = 0.;
    for (int64_t i = 0; i < n; ++i)
    {
      res += a[i];
    }
    return res;
  }
  if (n <= 128)
  {
    double r[8];
    for (int j = 0; j < 8; ++j)
    {
      r[j] = a[j];
    }
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
    {
      for (int j = 0; j < 8; ++j)
      {
        r[j] += a[i + j];
      }
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i)
    {
      res += a[i];
    }
    return res;
  }
  int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpySum(a, n2) + numpySum(a + n2, n - n2);
}

std::vector<int64_t> numpyArgsort(const std::vector<double>& values)
{
  const int64_t num = static_cast<int64_t>(values.size());
  std::vector<int64_t> order(values.size());
  std::iota(order.begin(), order.end(), int64_t{ 0 });
  if (num < 2)
  {
    return order;
  }
  const double* v = values.data();
  int64_t* pl = order.data();
  int64_t* pr = order.data() + num - 1;
  struct Pending
  {
    int64_t* left;
    int64_t* right;
    int depth;
  };
  std::vector<Pending> stack;
  int cdepth = mostSignificantBit(num) * 2;
  for (;;)
  {
    if (cdepth < 0)
    {
      numpyHeapsort(v, pl, pr - pl + 1);
    }
    else
    {
      while ((pr - pl) > 15)
      {
        int64_t* pm = pl + ((pr - pl) >> 1);
        if (npLess(v[*pm], v[*pl]))
        {
          std::swap(*pm, *pl);
        }
        if (npLess(v[*pr], v[*pm]))
        {
          std::swap(*pr, *pm);
        }
        if (npLess(v[*pm], v[*pl]))
        {
          std::swap(*pm, *pl);
        }
        const double vp = v[*pm];
        int64_t* pi = pl;
        int64_t* pj = pr - 1;
        std::swap(*pm, *pj);
        for (;;)
        {
          do
          {
            ++pi;
          } while (npLess(v[*pi], vp));
          do
          {
            --pj;
          } while (npLess(vp, v[*pj]));
          if (pi >= pj)
          {
            break;
          }
          std::swap(*pi, *pj);
        }
        int64_t* pk = pr - 1;
        std::swap(*pi, *pk);
        // The larger partition waits on the stack.
        --cdepth;
        if (pi - pl < pr - pi)
        {
          stack.push_back({ pi + 1, pr, cdepth });
          pr = pi - 1;
        }
        else
        {
          stack.push_back({ pl, pi - 1, cdepth });
          pl = pi + 1;
        }
      }
      for (int64_t* pi = pl + 1; pi <= pr; ++pi)
      {
        const int64_t vi = *pi;
        const double vp = v[vi];
        int64_t* pj = pi;
        int64_t* pk = pi - 1;
        while (pj > pl && npLess(vp, v[*pk]))
        {
          *pj-- = *pk--;
        }
        *pj = vi;
      }
    }
    if (stack.empty())
    {
      break;
    }
    pl = stack.back().left;
    pr = stack.back().right;
    cdepth = stack.back().depth;
    stack.pop_back();
  }
  return order;
}

namespace
{
int64_t numpyMedian5(const double* v, int64_t* t)
{
  auto V = [&](int i) { return v[t[i]]; };
  auto S = [&](int a, int b) { std::swap(t[a], t[b]); };
  if (npLess(V(1), V(0)))
    S(1, 0);
  if (npLess(V(4), V(3)))
    S(4, 3);
  if (npLess(V(3), V(0)))
    S(3, 0);
  if (npLess(V(4), V(1)))
    S(4, 1);
  if (npLess(V(2), V(1)))
    S(2, 1);
  if (npLess(V(3), V(2)))
  {
    return npLess(V(3), V(1)) ? 1 : 3;
  }
  return 2;
}

int64_t numpyMedianOfMedians5(const double* v, int64_t* t, int64_t num)
{
  const int64_t nmed = num / 5;
  for (int64_t i = 0, subleft = 0; i < nmed; ++i, subleft += 5)
  {
    const int64_t m = numpyMedian5(v, t + subleft);
    std::swap(t[subleft + m], t[i]);
  }
  if (nmed > 2)
  {
    numpyIntroselect(v, t, nmed, nmed / 2);
  }
  return nmed / 2;
}
} // namespace

void numpyIntroselect(const double* v, int64_t* t, int64_t num, int64_t kth)
{
  int64_t low = 0;
  int64_t high = num - 1;
  auto V = [&](int64_t i) { return v[t[i]]; };
  if (kth - low < 3)
  {
    for (int64_t i = 0; i <= kth; ++i)
    {
      int64_t minIndex = i;
      double minValue = V(i);
      for (int64_t k = i + 1; k < num; ++k)
      {
        if (npLess(V(k), minValue))
        {
          minIndex = k;
          minValue = V(k);
        }
      }
      std::swap(t[i], t[minIndex]);
    }
    return;
  }
  if (kth == num - 1)
  {
    int64_t maxIndex = low;
    double maxValue = V(low);
    for (int64_t k = low + 1; k < num; ++k)
    {
      if (!npLess(V(k), maxValue))
      {
        maxIndex = k;
        maxValue = V(k);
      }
    }
    std::swap(t[kth], t[maxIndex]);
    return;
  }
  int depthLimit = mostSignificantBit(num) * 2;
  for (; low + 1 < high;)
  {
    int64_t ll = low + 1;
    int64_t hh = high;
    if (depthLimit > 0 || hh - ll < 5)
    {
      const int64_t mid = low + (high - low) / 2;
      if (npLess(V(high), V(mid)))
        std::swap(t[high], t[mid]);
      if (npLess(V(high), V(low)))
        std::swap(t[high], t[low]);
      if (npLess(V(low), V(mid)))
        std::swap(t[low], t[mid]);
      std::swap(t[mid], t[low + 1]);
    }
    else
    {
      const int64_t mid = ll + numpyMedianOfMedians5(v, t + ll, hh - ll);
      std::swap(t[mid], t[low]);
      ll--;
      hh++;
    }
    depthLimit--;
    const double pivot = V(low);
    for (;;)
    {
      do
      {
        ll++;
      } while (npLess(V(ll), pivot));
      do
      {
        hh--;
      } while (npLess(pivot, V(hh)));
      if (hh < ll)
      {
        break;
      }
      std::swap(t[hh], t[ll]);
    }
    std::swap(t[low], t[hh]);
    if (hh >= kth)
    {
      high = hh - 1;
    }
    if (hh <= kth)
    {
      low = ll;
    }
  }
  if (high == low + 1 && npLess(V(high), V(low)))
  {
    std::swap(t[high], t[low]);
  }
}

} // namespace engine
} // namespace dualembed
