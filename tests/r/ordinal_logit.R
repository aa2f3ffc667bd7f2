# Reference values for tests/test_models.py::test_ordinal_logit_equals_r_clm (the robustness ordinal
# logit per item: answer ~ marketing, proportional odds, logit link). Run from the repository root:
#   Rscript tests/r/ordinal_logit.R
# Debian packages: r-base-core, r-cran-ordinal.
# The data are generated here (set.seed) and written beside the values computed from them: items with
# 3 to 7 levels, unequal group sizes, an empty middle level and a level only one role uses.
suppressPackageStartupMessages(library(ordinal))
out <- "tests/r"
options(digits = 17)
set.seed(20261130)
draw <- function(n, shift, levels) {
  latent <- rlogis(n) + shift
  cuts <- qlogis(seq_len(levels - 1) / levels)
  1 + findInterval(latent, cuts)
}
spec <- data.frame(item = sprintf("R%d", 1:6), levels = c(5, 5, 7, 3, 4, 6),
                   shift = c(0.8, -0.4, 1.5, 0.2, 0, -1.1), n_mkt = c(40, 23, 60, 35, 18, 50),
                   n_sales = c(41, 30, 55, 20, 25, 44))
data <- do.call(rbind, lapply(seq_len(nrow(spec)), function(k) {
  s <- spec[k, ]
  rbind(data.frame(item = s$item, role = "marketing", keyed = draw(s$n_mkt, s$shift, s$levels)),
        data.frame(item = s$item, role = "sales", keyed = draw(s$n_sales, 0, s$levels)))
}))
data$keyed[data$item == "R2" & data$keyed == 3] <- 4  # a level nobody uses: R2 has 4 observed levels
data$keyed[data$item == "R6" & data$role == "sales" & data$keyed == 6] <- 5  # 6: marketing only
write.csv(data, file.path(out, "ordinal_data.csv"), row.names = FALSE)
ref <- do.call(rbind, lapply(split(data, data$item), function(d) {
  d$y <- factor(d$keyed, ordered = TRUE)
  d$marketing <- as.numeric(d$role == "marketing")
  fit <- clm(y ~ marketing, data = d, link = "logit")
  co <- coef(summary(fit))["marketing", ]
  data.frame(item = d$item[1], n = nrow(d), coef = co[["Estimate"]], se = co[["Std. Error"]],
             p = co[["Pr(>|z|)"]], logLik = as.numeric(logLik(fit)))
}))
write.csv(ref, file.path(out, "ordinal_reference.csv"), row.names = FALSE)
