/* Integrand of the innermost integral of the reference computation (ground_truth.py).
 *
 * xx[0] = u; xx[1..9] = omega, v, A, y, c, shift, mode, center, centered.
 * The value is  exp(L(u) - shift) * h(u)  with t = tanh(u) and
 *   L(u) = -(u - omega)^2 / (2 v) - A/2 (y - t)^2                       (centered = 0),
 *   L(u) = -(u - omega)^2 / (2 v) + A (t - c) ((y - c) - (t - c)/2)     (centered = 1),
 * the second being the first plus A/2 (y - c)^2, written as a product so that it is
 * small when A (t - c)^2 is.  h = 1, t - center, (t - center)^2, u - omega for
 * mode = 0, 1, 2, 3.
 */
#include <math.h>

double integrand(int n, double *xx)
{
    double u = xx[0], omega = xx[1], v = xx[2], A = xx[3], y = xx[4], c = xx[5];
    double shift = xx[6], center = xx[8];
    int mode = (int)xx[7], centered = (int)xx[9];
    double t = tanh(u), d = u - omega, L;
    (void)n;
    if (centered) {
        double tc = t - c;
        L = -0.5 * d * d / v + A * tc * ((y - c) - 0.5 * tc);
    } else {
        double r = y - t;
        L = -0.5 * d * d / v - 0.5 * A * r * r;
    }
    double e = exp(L - shift);
    switch (mode) {
    case 0: return e;
    case 1: return e * (t - center);
    case 2: return e * (t - center) * (t - center);
    default: return e * d;
    }
}
