using System.Reflection;
using GupConformance.Spec;

namespace GupConformance.Fixtures.Broken;

/// <summary>Every deliberately broken implementation with its declaration, for the suite's own tests.</summary>
public static class BrokenImplementations
{
    private static readonly Type[] Types =
    [
        typeof(PinBiasAddsRefs), typeof(PinOrder1ExactOn32Bit), typeof(RefNoImpliedGet), typeof(MdpStrictlyGreater),
        typeof(RelDirtyLockSkipsCompound), typeof(VmstatCountsGet), typeof(ZeroPagePinnedAfter65), typeof(OvfNoSignCheck),
        typeof(CorePutPageWrongFolio), typeof(ApiGetAcceptsPin), typeof(ApiPinReturnsEinval), typeof(IovSourceTakesRefs),
        typeof(BioSamePageKeepsDuplicate), typeof(BioNoPageRefOldMeaning), typeof(FvPutIgnoresGotRef),
        typeof(NetfsCleanupAsksBvecCopy),

        // The zoo (ZooMutants.cs).
        typeof(GrabAddsOneNotRefs), typeof(OvfAddUnlessZero), typeof(ZeroPinNeverDropped),
        typeof(ZeroPinNeverTaken), typeof(RelUnpinReffedAsPut), typeof(RelPutPinnedAsUnpin), typeof(GupErrorForgetsRelease),
        typeof(BioReleaseAcrossFolio), typeof(BioPutForPinned), typeof(BioUnpinForReffed), typeof(PinOrder1BiasOn64Bit),
        typeof(ApiPinAcceptsGet), typeof(VmstatPerFolio), typeof(MdpSignedCompare),
        typeof(RelRangeNoDirty), typeof(FolioAddPinLostPincount), typeof(UnpinBatchDropsOne),

        // Coverage mutants (CoverageMutants.cs): rules no historical bug covered.
        typeof(RefWalkGrabsWithoutPages), typeof(VmstatFolioAddPinCounted), typeof(ApiTouchRefusedIn65),
        typeof(ApiGetAcceptsLongterm), typeof(ApiLongtermGetRefusedIn57), typeof(ApiUnlockedAcceptsLongterm),
        typeof(ApiFastAcceptsTouch), typeof(ApiFastOverflowEoverflowBefore65), typeof(ApiVmaCheckMissesIoPfnmap),
        typeof(ApiLongtermFileWriteAllowed), typeof(IovRfcSourcePinned), typeof(IovDiscardReturnsZero),
        typeof(IovExtractModeUnrenumberedPin), typeof(IovEmptyKvecFixIn65), typeof(IovEmptyKvecStopsAfter66),
        typeof(BioBvecSetTakesRefs),
        typeof(FvPfnWalkTakesRefs), typeof(FvNoClamp), typeof(FvZeroFramesEfault), typeof(FvNothingCollectedReturnsZero),
        typeof(FvPfnFallbackKept), typeof(NetfsKernelIterEfault), typeof(NetfsPropagatesExtractError),

        // Issue 13 (ReachMutants.cs): behaviour the model newly covers.
        typeof(GupWalkStopsAtVmaEnd), typeof(ZeroWriteFaultCopiesAgain), typeof(ApiLongtermP2pdmaAccepted),
        typeof(IovBvecOneSegmentAfter613), typeof(UnpinErrnoCountClamped), typeof(UnpinNullEntryEndsArray),
        typeof(NetfsStableErrorKeepsPartial), typeof(BioFullCountsPages), typeof(ZeroLongtermPinSharesZeroPage),
        typeof(BioTrimKeepsTail), typeof(BioTrimNotReverted), typeof(BioBvecNotCloned), typeof(BioFlagBitsV8Layout),
        typeof(IovNoMemAfterPin), typeof(HasPinnedMarksCaller), typeof(HasPinnedSetByGet), typeof(RemoteWalksCallerMm),
        typeof(LongtermPinsMovableInPlace), typeof(LongtermUnpinsOnlyMovable), typeof(LongtermMigratesBusyFolio),
        typeof(RemoteLockedNotChecked), typeof(RemoteLockedLongtermWalked),

        // Real kernels (ZooMutants.cs): behaviour the 6.1.y and 6.12.118 trees showed.
        typeof(FileWriteFaultStaysClean), typeof(FastPinRefusalUncounted),
    ];

    public static IReadOnlyList<BrokenImplementation> All { get; } = [.. Types.Select(Describe)];

    public static BrokenImplementation? Find(string name) =>
        All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.Ordinal));

    private static BrokenImplementation Describe(Type type)
    {
        var attr = type.GetCustomAttribute<BrokenAttribute>()
            ?? throw new InvalidOperationException($"{type.Name} has no [Broken] declaration");
        var name = "broken-" + attr.Name;
        var factory = new BrokenFactory(name, profile => (IGupImplementation)Activator.CreateInstance(type, profile)!);
        return new BrokenImplementation(name, factory, attr.Declaration);
    }
}
